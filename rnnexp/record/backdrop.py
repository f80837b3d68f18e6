"""A kept figure saved again with only what changed drawn: matplotlib's blitting.

A sweep draws the same picture once per point, and much of it (step labels,
an axis that does not move, a legend) is the same at every point, while text
is most of what a figure costs to draw. A `Backdrop` renders a figure's other
artists once for what they show (a key the figure gives), keeps those pixels,
and for each picture restores them and draws over them only the artists it
was given as changing, in the order a full draw would: what it saves is
pixel for pixel what `savefig` saves of the same figure drawn whole
(tests/test_backdrop.py). The key must name everything the other artists
show: under an unchanged key their kept pixels are used as they are.

That holds while no unchanging artist both overlaps a changing one and is
drawn after it in a full draw; the figures that use a Backdrop
(rnnexp.record.state_figure, rnnexp.record.dynamics_plots) list their
changing artists so, and their tests compare the pixels.

Public matplotlib only: `Artist.set_animated`, `copy_from_bbox`,
`restore_region`, `matplotlib.image.imsave` (what the Agg canvas's
`print_png` calls).
"""

from pathlib import Path
from typing import Hashable, Iterable

PNG_OPTIONS = {"compress_level": 1}  # zlib level 1: several times faster than the default 6


def _draw_order(parent) -> list:
    """`parent`'s children (a Figure's or an Axes') in the order its draw
    draws them (by zorder, ties in child order), but for its background
    patch, which is kept with the other unchanging artists."""
    children = [child for child in parent.get_children() if child is not parent.patch]
    return sorted(children, key=lambda child: child.get_zorder())


class Backdrop:
    """Saves `figure` as PNG, drawing its `changing` artists (children of the
    figure or of its Axes) over kept pixels of the rest.

    Args:
        figure: a Figure on an Agg canvas.
        changing: the artists whose look may differ between two pictures
            with the same key.
    """

    def __init__(self, figure, changing: Iterable):
        self.figure = figure
        self.key = None
        self.pixels = None
        self.changing = list(changing)
        for artist in self.changing:
            artist.set_animated(True)  # a canvas's draw leaves them out

    def save(self, path: Path, key: Hashable) -> Path:
        """Saves the figure to `path`; the unchanging artists are drawn again
        only when `key` (what they show) differs from the last picture's."""
        from matplotlib.axes import Axes
        from matplotlib.image import imsave

        canvas = self.figure.canvas
        if self.pixels is None or key != self.key:
            canvas.draw()  # everything but the changing artists
            self.pixels, self.key = canvas.copy_from_bbox(self.figure.bbox), key
        else:
            canvas.restore_region(self.pixels)
        renderer = canvas.get_renderer()
        for artist in _draw_order(self.figure):
            if artist.get_animated():
                artist.draw(renderer)
            elif isinstance(artist, Axes):
                for child in _draw_order(artist):
                    if child.get_animated():
                        child.draw(renderer)
        imsave(path, canvas.buffer_rgba(), format="png", dpi=self.figure.dpi, pil_kwargs=PNG_OPTIONS)
        return Path(path)
