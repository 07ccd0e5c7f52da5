"""The contact sheet: pages of cards (a take's picture, the shot's title, the take's name, its status and how long
it is held), scenes as headings, the project's name and the date on top of each page.

A page is A4 landscape at 150 dpi (1754×1240 pixels) with `columns` × `rows` cards. Each scene starts a new row;
its title stands above its first row, and above the first row of a page it continues on ("… (continued)").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mediastudio.handoff.pictures import font
from mediastudio.handoff.shots import BoardShot, SceneShots

if TYPE_CHECKING:
    from PIL import Image

PAGE = (1754, 1240)
MARGIN = 56
HEADER = 84  # the project's name, the date and the page number
BAND = 40  # above each row: the scene's title where one starts or continues
CAPTION = 78  # below each picture: title, take, status and seconds
GAP = 20
PAPER, INK, MUTED, FRAME = (255, 255, 255), (24, 24, 28), (110, 112, 120), (232, 233, 236)


@dataclass(frozen=True)
class Row:
    scene: str
    heading: str | None  # the scene's title, where this row starts it or begins a page
    shots: list[BoardShot]


def layout(scenes: list[SceneShots], columns: int, rows: int) -> list[list[Row]]:
    """The pages, each a list of at most `rows` rows of at most `columns` shots. A scene without shots is left
    out."""
    pages: list[list[Row]] = []
    for scene in scenes:
        for start in range(0, len(scene.shots), columns):
            if not pages or len(pages[-1]) >= rows:
                pages.append([])
            first_on_page = not pages[-1]
            heading = scene.name if start == 0 else f"{scene.name} (continued)" if first_on_page else None
            pages[-1].append(Row(scene.name, heading, scene.shots[start:start + columns]))
    return pages


def card_box(columns: int, rows: int) -> tuple[int, int]:
    """The size of a card's picture on the page."""
    width = (PAGE[0] - 2 * MARGIN - (columns - 1) * GAP) // columns
    row_height = (PAGE[1] - 2 * MARGIN - HEADER - (rows - 1) * GAP) // rows
    return width, max(40, row_height - BAND - CAPTION)


def _clip(text: str, width: int, size: int) -> str:
    """`text` cut (with …) to fit `width` pixels in the font of `size`."""
    face = font(size)
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _seconds(value: float) -> str:
    return f"{value:.1f} s".replace(".0 s", " s")


def _card(page: Image.Image, shot: BoardShot, picture: Image.Image | None, x: int, y: int,
          box: tuple[int, int]) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(page)
    draw.rectangle((x, y, x + box[0] - 1, y + box[1] - 1), fill=FRAME)
    if picture is not None:
        page.paste(picture, (x + (box[0] - picture.width) // 2, y + (box[1] - picture.height) // 2))
    else:
        draw.text((x + box[0] / 2, y + box[1] / 2), "No take yet", font=font(20), fill=MUTED, anchor="mm")
    top = y + box[1] + 8
    draw.text((x, top), _clip(shot.title, box[0], 22), font=font(22), fill=INK)
    take = "No take" if shot.take is None else shot.take.name if shot.picked else f"{shot.take.name} (newest)"
    draw.text((x, top + 26), _clip(take, box[0], 17), font=font(17), fill=MUTED)
    facts = " · ".join(part for part in (shot.status, _seconds(shot.seconds)) if part)
    draw.text((x, top + 48), _clip(facts, box[0], 17), font=font(17), fill=MUTED)


def render_pages(pages: list[list[Row]], columns: int, rows: int, title: str, made: str,
                 picture: Callable[[BoardShot, tuple[int, int]], Image.Image | None],
                 each: Callable[[], None]) -> Iterator[Image.Image]:
    """Draw each page; `picture` gives a shot's picture fitted into the card, `each` is called after each card
    (progress, cancel)."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    box = card_box(columns, rows)
    row_height = (PAGE[1] - 2 * MARGIN - HEADER - (rows - 1) * GAP) // rows
    for number, content in enumerate(pages, start=1):
        page = PILImage.new("RGB", PAGE, PAPER)
        draw = ImageDraw.Draw(page)
        draw.text((MARGIN, MARGIN), _clip(title, PAGE[0] // 2, 36), font=font(36), fill=INK)
        draw.text((PAGE[0] - MARGIN, MARGIN + 6), f"{made} · page {number} of {len(pages)}", font=font(20),
                  fill=MUTED, anchor="ra")
        draw.line((MARGIN, MARGIN + HEADER - 20, PAGE[0] - MARGIN, MARGIN + HEADER - 20), fill=FRAME, width=2)
        for index, row in enumerate(content):
            y = MARGIN + HEADER + index * (row_height + GAP)
            if row.heading:
                draw.text((MARGIN, y + 4), _clip(row.heading, PAGE[0] - 2 * MARGIN, 26), font=font(26), fill=INK)
            for column, shot in enumerate(row.shots):
                _card(page, shot, picture(shot, box), MARGIN + column * (box[0] + GAP), y + BAND, box)
                each()
        yield page
