"""The PySide6 console (see README.md). Importing this package does not import Qt:
``lookout.config`` reads ``console.config`` in headless commands too. Qt code lives in the
submodules (``console.app``, ``console.main_window``, ...)."""
