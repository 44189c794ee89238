"""What a cell displays in its container reaches the cell as it happens, as mime bundles: display(), objects with
_repr_*_ methods, IPython.display, matplotlib figures, pandas tables, tqdm bars; in images with and without
IPython, local and on Vertex AI (the fake), in the live view and in a notebook executed headlessly."""
from __future__ import annotations

import base64
from pathlib import Path

import docker
import nbformat
import pytest
from nbclient import NotebookClient

from cjtest import IMAGE, build_rich_images, recorded_displays, run_cell
from containerjob.core.display_lines import MARKER
from containerjob.core.job_files import read_log
from containerjob.core.store import Store
from logging_fake import LoggingFake
from vertex_fake import VertexFake

CARD = "class Card:\n    def _repr_html_(self):\n        return '<b>card</b>'\n"


@pytest.fixture(scope="session")
def rich_images(engine) -> tuple[str, str]:
    """(matplotlib + pandas + tqdm, the same + IPython): built once, kept under stable tags."""
    return build_rich_images(engine)


@pytest.fixture
def shown(ip, capsys):
    """(stdout printed before it, data) for each display the cell gets."""
    with recorded_displays(ip, before=lambda: capsys.readouterr().out) as events:
        yield events


def only_record(cj_home):
    (record,) = Store(cj_home / "jobs.db").list()
    return record


def job_displays(events) -> list[tuple[str, dict]]:
    """Without the output naming the job (magics/cell.py's _announce)."""
    return [(before, data) for before, data in events if "application/vnd.containerjob.job+json" not in data]


def test_display_without_ipython_in_the_image(ip, shown, cj_home):
    cell = (CARD + "print('before')\ndisplay(Card())\nprint('between')\n"
            "display({'text/html': '<p>' + 'x' * 100_000, 'text/plain': 'wide'}, raw=True)\n"
            "class Big:\n    def _repr_png_(self):\n        return b'P' * 3_000_000\n"
            "display(Big())\nprint('after')\nn = 1\n")
    result = run_cell(ip, f"--image {IMAGE}", cell)
    assert result.success, result.error_in_exec
    (before, card), (between, wide), (_, big) = job_displays(shown)
    assert "before\n" in before and "between" not in before and between == "between\n"
    assert card["text/html"] == "<b>card</b>" and card["text/plain"].startswith("<__main__.Card object")
    assert wide == {"text/html": "<p>" + "x" * 100_000, "text/plain": "wide"}
    assert set(big) == {"text/plain"} and big["text/plain"].startswith("<__main__.Big object")
    assert "a display of image/png, text/plain is not shown: it is 3.8 MiB, over the 2.0 MiB" in big["text/plain"]
    log, _, done = read_log(Path(only_record(cj_home).job_dir), True, 0)  # the REST logs and the sidebar
    assert done and MARKER not in log and "before\n[display: text/html, text/plain, 1 KiB]\nbetween\n" in log


@pytest.mark.parametrize("with_ipython", [False, True], ids=["no-ipython", "ipython"])
def test_figures_tables_and_progress_bars(ip, shown, capsys, rich_images, with_ipython):
    """plt.show() and a figure left open (as the inline backend), a DataFrame's table, tqdm.auto's text bar;
    with IPython in the image, IPython.display's display and HTML too."""
    cell = ("import time\nimport matplotlib.pyplot as plt\nimport pandas as pd\nfrom tqdm.auto import tqdm\n"
            "plt.plot([1, 2, 3])\nplt.show()\nprint('shown')\n"
            "display(pd.DataFrame({'a': [1, 2]}))\n"
            "for _ in tqdm(range(40)):\n    time.sleep(0.04)\n"
            "plt.figure()\nplt.bar([1, 2], [3, 4])\nprint('drawn')\nok = True\n")
    if with_ipython:
        cell = "from IPython.display import HTML, display\ndisplay(HTML('<i>from IPython</i>'))\n" + cell
    result = run_cell(ip, f"--image {rich_images[with_ipython]} --out ok", cell)
    assert result.success, result.error_in_exec
    events = job_displays(shown)
    if with_ipython:
        assert events.pop(0)[1]["text/html"] == "<i>from IPython</i>"
    (_, shown_fig), (before_table, table), (before_open, open_fig) = events
    assert "shown" not in shown_fig and "shown\n" in before_table and "drawn\n" in before_open
    for figure in shown_fig, open_fig:
        assert base64.b64decode(figure["image/png"]).startswith(b"\x89PNG")
        assert figure["text/plain"].startswith("<Figure size")
    assert "<table" in table["text/html"] and "a" in table["text/plain"]
    bar_lines = [line for line in (before_open + capsys.readouterr().out).split("\n") if "40/40" in line]
    assert len(bar_lines) == 1 and bar_lines[0].count("\r") <= 6  # one line, redrawn a few times


def test_a_notebook_executed_headlessly_keeps_the_displays(cj_home, tmp_path):
    """papermill and nbconvert run the cell in a kernel without a front end: the displays land in the notebook."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%load_ext containerjob"),
        nbformat.v4.new_code_cell(f"%%containerjob --image {IMAGE}\n{CARD}print('in the container')\n"
                                  "display(Card())\n")])
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    outputs = nb.cells[1].outputs
    html = [o for o in outputs if o["output_type"] == "display_data" and "text/html" in o["data"]]
    assert [o["data"]["text/html"] for o in html] == ["<b>card</b>"]
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "in the container" in text and MARKER not in text


def test_containerjob_logs_shows_a_short_line_for_each_display(ip, capsys, cj_home):
    assert run_cell(ip, f"--image {IMAGE}", CARD + "display(Card())\nprint('end')\n").success
    capsys.readouterr()
    ip.run_line_magic("containerjob", f"logs {only_record(cj_home).id}")
    out = capsys.readouterr().out
    assert "[display: text/html, text/plain, 1 KiB]\nend\n" in out and MARKER not in out


def test_ipython_s_display_imported_in_the_kernel_is_not_sent(ip, shown):
    """`from IPython.display import display` in the kernel: the cell gets the runner's (the image has no IPython)."""
    ip.run_cell("from IPython.display import display")
    assert run_cell(ip, f"--image {IMAGE}", CARD + "display(Card())\n").success
    assert [data["text/html"] for _, data in job_displays(shown)] == ["<b>card</b>"]


@pytest.fixture
def vertex(gcs_emulator, gcs, cj_home, registry, monkeypatch):
    """The fake Vertex API and Cloud Logging (as test_vertex_backend.py sets them up)."""
    logging = LoggingFake()
    fake = VertexFake(gcs_url=gcs_emulator["url"], logging=logging)
    for name, value in (("CONTAINERJOB_IMAGE_REPO", f"{registry}/vertex"), ("CONTAINERJOB_VERTEX_ENDPOINT", fake.url),
                        ("CONTAINERJOB_LOGGING_ENDPOINT", logging.url), ("CONTAINERJOB_VERTEX_CREDENTIALS", "anonymous"),
                        ("CONTAINERJOB_STAGING_BUCKET", gcs.name)):
        monkeypatch.setenv(name, value)
    yield fake
    fake.close()
    logging.close()
    assert not docker.from_env().containers.list(all=True, filters={"label": f"vertexfake.fake={fake.token}"})


def test_displays_of_a_vertex_job_come_through_cloud_logging(ip, shown, vertex):
    cell = (CARD + "display(Card())\ndisplay({'text/html': '<p>' + 'y' * 40_000, 'text/plain': 'wide'}, raw=True)\n"
            "print('done')\n")
    result = ip.run_cell(f"%%containerjob --backend vertex --project my-proj --image {IMAGE}\n{cell}")
    assert result.success, result.error_in_exec
    (_, card), (_, wide) = job_displays(shown)
    assert card["text/html"] == "<b>card</b>" and wide["text/html"] == "<p>" + "y" * 40_000


def test_arrays_and_dataframes_changed_in_place_come_back(ip, capsys, rich_images):
    """`df["b"] = ...` and `arr[1] = 5` in a container change the kernel's objects as they would in the kernel;
    an array only read is not sent back."""
    import numpy as np
    import pandas as pd

    ip.user_ns.update(df=pd.DataFrame({"a": [1, 2]}), arr=np.zeros(3), ref=np.arange(1_000_000))
    result = run_cell(ip, f"--image {rich_images[False]}", "df['b'] = df['a'] * 10\narr[1] = 5\ntotal = int(ref.sum())")
    assert result.success, result.error_in_exec
    ns = ip.user_ns
    assert ns["df"].to_dict("list") == {"a": [1, 2], "b": [10, 20]} and ns["arr"].tolist() == [0.0, 5.0, 0.0]
    assert ns["total"] == 499999500000
    (line,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("updated: ")]
    assert "arr (numpy.ndarray" in line and ("df (pandas.DataFrame" in line or "df (pandas.core.frame.DataFrame" in line)
    assert line.endswith("unchanged: ref")  # 8 MB read, hashed as it was pickled, not sent back
