"""Tiny GStreamer RTSP server for the reconnect test; run it with SYSTEM ``/usr/bin/python3`` (needs gi).

Usage: ``/usr/bin/python3 rtsp_server.py PORT [MAX_LIFETIME_S]``. PORT 0 picks a free port. Serves an
endless 320x240 10 fps H.264 test pattern at ``rtsp://127.0.0.1:PORT/cam``, prints ``READY <port>`` once
listening, and exits by itself when stdin closes (its parent died) or after MAX_LIFETIME_S.
"""

import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

LAUNCH = (
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=10/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! rtph264pay name=pay0 pt=96 )"
)


def main() -> None:
    port = sys.argv[1] if len(sys.argv) > 1 else "0"
    lifetime_s = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    Gst.init(None)
    srv = GstRtspServer.RTSPServer()
    srv.set_address("127.0.0.1")
    srv.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(LAUNCH)
    factory.set_shared(True)
    srv.get_mount_points().add_factory("/cam", factory)
    if srv.attach(None) == 0:
        print(f"FAILED cannot listen on 127.0.0.1:{port}", flush=True)
        sys.exit(2)
    loop = GLib.MainLoop()

    def watch_stdin() -> None:
        sys.stdin.read()  # returns at EOF: the parent went away
        GLib.idle_add(loop.quit)

    threading.Thread(target=watch_stdin, daemon=True).start()
    GLib.timeout_add(int(lifetime_s * 1000), loop.quit)
    print(f"READY {srv.get_bound_port()}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
