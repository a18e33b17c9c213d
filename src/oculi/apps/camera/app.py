"""The camera app: keep the frame in view as a photo in a local gallery, and say what is there."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from oculi.apps.camera.gallery import BrokenImage, Gallery, GalleryError, Photo
from oculi.apps.sdk import ActionError, App, Context, Reply, action
from oculi.events import Card, CardRow


class CameraApp(App):
    name = "camera"
    description = "Take a photo of what you see into the gallery on the glasses."
    permissions = ("camera", "storage")
    intents_file = Path(__file__).with_name("intents.yaml")

    def __init__(self, gallery_dir: Path) -> None:
        self._gallery = Gallery(gallery_dir)

    @action
    async def photo(self, ctx: Context) -> Reply:
        """Take a photo of what is in view and keep it in the gallery."""
        seen = ctx.in_view
        frame = seen.image if seen is not None else None
        if not frame:
            return ctx.reply(
                ctx.say_in(
                    "I have no camera picture right now, so no photo was taken.",
                    "现在没有摄像头画面，没拍到照片。",
                ),
                "No camera picture",
                "Nothing was saved",
            )
        try:
            with _reachable(ctx):
                photo = await asyncio.to_thread(self._gallery.save, frame)
        except BrokenImage as err:
            return ctx.reply(
                ctx.say_in(
                    "The camera picture was damaged, so I saved nothing. Try again.",
                    "摄像头画面损坏了，没有保存。请再试一次。",
                ),
                "Photo not saved",
                "The frame was damaged",
                str(err)[:36],
            )
        return _photo_card(ctx.say_in("Photo saved.", "照片已保存。"), "Photo saved", photo)

    @action
    def count(self, ctx: Context) -> Reply:
        """How many photos the gallery holds."""
        with _reachable(ctx):
            photos = self._gallery.photos()
        n = len(photos)
        speech = ctx.say_in(
            f"You have {n} photo{'s' if n != 1 else ''}." if n else "You have no photos yet.",
            f"你有{n}张照片。" if n else "你还没有照片。",
        )
        lines = [f"Latest: {_when(photos[-1])}"] if photos else ["Try: take a photo"]
        return ctx.reply(speech, f"{n} photo{'s' if n != 1 else ''}", *lines, count=n)

    @action
    def last_photo(self, ctx: Context) -> Reply:
        """Show when the last photo was taken and how big it is."""
        with _reachable(ctx):
            photo = self._gallery.last()
        if photo is None:
            return ctx.reply(
                ctx.say_in("You have no photos yet.", "你还没有照片。"),
                "No photos yet",
                "Try: take a photo",
                count=0,
            )
        speech = ctx.say_in(
            f"Your last photo is from {_when(photo)}, {_size(photo.bytes)}.",
            f"最后一张照片拍于{_when(photo, 'zh')}，{_size(photo.bytes)}。",
        )
        return _photo_card(speech, "Last photo", photo)


@contextmanager
def _reachable(ctx: Context) -> Iterator[None]:
    """A gallery that cannot be written or read is said to the wearer."""
    try:
        yield
    except GalleryError as err:
        raise ActionError(
            ctx.say_in(f"I can't use the gallery: {err}.", f"无法使用相册：{err}。")
        ) from err


def _photo_card(speech: str, heading: str, photo: Photo) -> Reply:
    card = Card(
        layout="message",
        title=heading,
        rows=(
            CardRow(label="Taken", value=_when(photo), highlight=True),
            CardRow(label="Size", value=f"{_size(photo.bytes)} · {photo.width}×{photo.height}"),
            CardRow(label=photo.name[:36]),
        ),
    )
    data = {"photo": photo.name, "taken": photo.taken, "bytes": photo.bytes}
    return Reply(speech, card, data)


def _when(photo: Photo, language: str = "en") -> str:
    stamp = time.localtime(photo.taken)
    if language == "zh":
        return f"{stamp.tm_mon}月{stamp.tm_mday}日{stamp.tm_hour}:{stamp.tm_min:02d}"
    return time.strftime("%b %d, %H:%M", stamp)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{max(1, round(n / 1024))} KB"
