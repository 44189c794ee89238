"""The matplotlib backend of cells (module://containerjob_mpl, chosen by rich_output when a cell imports
matplotlib): Agg drawing, and plt.show() sends every open figure to the cell, as Jupyter's inline backend."""
import rich_output  # next to this file, on sys.path in every job
from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

FigureCanvas = FigureCanvasAgg
FigureManager = FigureManagerBase


def show(*args: object, **kwargs: object) -> None:
    """plt.show(block=...): nothing to block on; the open figures go to the cell and are closed."""
    rich_output.show_figures()
