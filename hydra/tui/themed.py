"""What every Hydra app shares: the bundled and the user's themes set before it runs, each
theme's ANSI palette, dim text at a measured factor, NO_COLOR (or -m), frames written as
soon as they are drawn, and the cycle collector resumed with the first one (hydra.collector)."""

from __future__ import annotations

import os
import sys

from textual.app import App

from hydra.collector import resume


class ThemedApp(App):
    def __init__(self, *, theme: str | None = None, themes=None, keymap: dict[str, str] | None = None):
        # NO_COLOR (set by -m too): Textual greys colours out unless it draws with the
        # terminal's own palette, in which case it drops them, as no-color.org asks
        super().__init__(ansi_color=bool(os.environ.get("NO_COLOR")))
        self._keymap = keymap or {}
        for custom in (themes or {}).values():
            self.register_theme(custom)
        # set before the app runs (without its watchers, which need a screen): set in
        # on_mount it would restyle every widget a second time
        if theme and theme in self.available_themes:
            self.set_reactive(App.theme, theme)
            self._theme_classes_and_palette(reactive=False)

    def run(self, *args, **kwargs):
        # Textual writes each frame to the terminal from a thread of its own, which waits for
        # the interpreter lock: at Python's 5 ms switch interval, what the app does after a
        # frame (colouring the source, decoding the instruction) held the first screen back
        # by about 20 ms. The app waits on the user, never on throughput: 1 ms costs nothing.
        previous = sys.getswitchinterval()
        sys.setswitchinterval(min(previous, 0.001))
        try:
            return super().run(*args, **kwargs)
        finally:
            sys.setswitchinterval(previous)

    def _on_ready(self) -> None:
        # the first screen is on the terminal: the collector held while starting resumes
        resume()

    def get_line_filters(self):
        """Textual's filters, with dim text blended towards the background by the factor the
        themes' contrast is measured with (tests/tui/test_contrast.py)."""
        from hydra.tui.themes import dim_filter

        return [dim_filter(self.ansi_theme, self.console.color_system) if filter.__class__.__name__ ==
                "ANSIToTruecolor" else filter for filter in super().get_line_filters()]

    def _theme_classes_and_palette(self, reactive: bool) -> None:
        """The theme's ANSI palette (themes.ansi_palette); before the app runs, also the
        classes Textual's own watcher would set."""
        from hydra.tui.themes import ansi_palette

        current = self.current_theme
        palette = ansi_palette(current)
        attribute = App.ansi_theme_dark if current.dark else App.ansi_theme_light
        if reactive:
            setattr(self, "ansi_theme_dark" if current.dark else "ansi_theme_light", palette)
            return
        self.set_reactive(attribute, palette)
        classes = {name: False for name in self.classes if name.startswith("-theme-")}
        classes.update({f"-theme-{current.name}": True, "-dark-mode": current.dark, "-light-mode": not current.dark})
        self.update_classes(classes, update=False)
        # the stylesheet took the default theme's variables when Textual's App was made
        self.stylesheet.set_variables(self.get_css_variables())

    def watch_theme(self, name: str) -> None:
        self._theme_classes_and_palette(reactive=True)

    def set_theme(self, name: str) -> None:
        self.theme = name
