"""``streamlit run app.py`` in a scratch checkout, for the suites that need the real server, and
a page of it run as a browser with a cookie would run it.

Starting the subprocess is ``benchmarks.streamlit_process``'s (the benchmark runs it too).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from benchmarks.streamlit_process import streamlit_run

ROOT = Path(__file__).resolve().parents[1]
KEEP_OUT = {
    ".git",
    ".venv",
    ".local",
    ".streamlit",
    "tests",
    "test-artifacts",
    ".pytest_cache",
    ".ruff_cache",
}


def scratch_checkout(where: Path) -> Path:
    """A directory that looks like the repo (code linked in) without its local state or secrets,
    so a test's `.local/` (cookie secret, session store) is its own."""
    for entry in ROOT.iterdir():
        if entry.name not in KEEP_OUT:
            (where / entry.name).symlink_to(entry)
    (where / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", where / ".streamlit" / "config.toml")
    return where


@contextmanager
def streamlit_app(
    cwd: Path,
    log: Path,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
    preexec_fn: Callable[[], None] | None = None,
    base_path: str = "",
) -> Iterator[str]:
    """Serve ``app.py`` of ``cwd`` on a free port until the block ends; yields its URL (the
    origin: under ``--server.baseUrlPath app`` pass ``base_path="/app"`` too). ``AUTH_*``
    variables are dropped, so a developer's own provider settings never leak into a test."""
    with streamlit_run(
        "app.py",
        cwd=cwd,
        log=log,
        args=args,
        env=env,
        timeout=timeout,
        preexec_fn=preexec_fn,
        base_path=base_path,
    ) as url:
        yield url


def page_texts(
    app_url: str, cookie: str, page: str = "", kinds: tuple[str, ...] = ("text", "alert", "markdown")
) -> list[str]:
    """What one run of ``page`` (the main script: "") shows a browser holding ``cookie``: its
    texts and alerts (markdown source; ``kinds`` of element, "html" for ``st.html``'s), and the
    message of an exception, in order. One
    websocket (``/_stcore/stream``), as ``benchmarks/rerun.py`` opens it: ``st.context.cookies``
    and so ``st.user`` are read from its handshake, which ``AppTest`` has none of."""
    url = app_url.replace("http://", "ws://") + "/_stcore/stream"
    texts: list[str] = []
    headers = {"Cookie": cookie}
    with connect(url, subprotocols=["streamlit"], additional_headers=headers, open_timeout=10) as ws:  # type: ignore[list-item]
        message = BackMsg()
        message.rerun_script.query_string = ""
        message.rerun_script.page_name = page
        ws.send(message.SerializeToString())
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(ws.recv(timeout=20))  # type: ignore[arg-type]
            kind = forward.WhichOneof("type")
            if kind == "script_finished":
                if forward.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.switch_page, st.rerun: the page that runs next is the one shown
                return texts
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                shown = element.WhichOneof("type")
                if shown in kinds:
                    texts.append(getattr(element, shown).body)
                elif shown == "exception":  # the page failed: its message, for the assertion
                    texts.append(f"exception: {element.exception.message}")
