"""A page rerun over Streamlit's websocket (``/_stcore/stream``), timed like a browser sees it.

The client sends ``BackMsg.rerun_script`` and the server streams ``ForwardMsg``s back until
``script_finished``: every rerun of the page is one request and many small websocket
frames, so a server with Nagle on pays the delayed-ACK stall here too.
"""

from __future__ import annotations

import time

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect


def time_reruns(app_url: str, n: int, *, cookie: str | None = None, page: str = "login") -> list[float]:
    """Milliseconds from ``rerun_script`` to ``script_finished``, for ``n`` reruns of ``page``
    on one websocket (after one untimed first run)."""
    url = app_url.replace("http://", "ws://") + "/_stcore/stream"
    headers = {"Cookie": cookie} if cookie else {}
    samples = []
    with connect(url, subprotocols=["streamlit"], additional_headers=headers, open_timeout=10) as ws:  # type: ignore[list-item]
        for i in range(n + 1):
            message = BackMsg()
            message.rerun_script.query_string = ""
            message.rerun_script.page_name = page
            started = time.perf_counter()
            ws.send(message.SerializeToString())
            while True:
                forward = ForwardMsg()
                forward.ParseFromString(ws.recv(timeout=20))  # type: ignore[arg-type]
                if forward.WhichOneof("type") == "script_finished":
                    break
            if i:
                samples.append((time.perf_counter() - started) * 1000)
    return samples
