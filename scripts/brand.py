"""Draw the integration's brand icons (custom_components/levity_ocpp/brand/).

HA serves a custom integration's own brand/ images in the UI. Run with
`.venv/bin/python scripts/brand.py` after changing the drawing.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "levity_ocpp" / "brand"
GREEN = (27, 122, 74, 255)
WHITE = (255, 255, 255, 255)
# A lightning bolt on a 100 x 100 grid.
BOLT = [(58, 8), (24, 56), (46, 56), (38, 92), (76, 40), (54, 40), (64, 8)]


def draw(size: int) -> Image.Image:
    scale = 4  # draw large and downsample for smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=GREEN)
    pen.polygon([(x * big / 100, y * big / 100) for x, y in BOLT], fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    BRAND.mkdir(exist_ok=True)
    draw(256).save(BRAND / "icon.png", optimize=True)
    draw(512).save(BRAND / "icon@2x.png", optimize=True)


if __name__ == "__main__":
    main()
