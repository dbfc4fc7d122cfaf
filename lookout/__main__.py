from lookout.cli import main

raise SystemExit(main())
