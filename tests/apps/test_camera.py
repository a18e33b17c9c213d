"""The camera app driven by words through a real agent: photos into a local gallery."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from agent_driver import ALL_INTENTS, answer, assert_fits_lens, errors, intent, parser_for, say
from PIL import Image

from oculi.agent.dialogue import Agent
from oculi.agent.embedding import ExampleIndex, shared_encoder
from oculi.apps.camera.app import CameraApp
from oculi.apps.camera.gallery import INDEX_NAME, Gallery, GalleryError
from oculi.apps.sdk import App
from oculi.apps.system.app import SystemApp


def frame(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, fmt)
    return out.getvalue()


def make_agent(gallery: Path, index: ExampleIndex | None = None) -> Agent:
    apps: list[App] = [CameraApp(gallery_dir=gallery), SystemApp()]
    parser = parser_for(*[a.intents_file for a in apps if a.intents_file])
    return Agent(apps, parser, index=index, data_dir=gallery.parent / "data")


def files(gallery: Path) -> list[str]:
    return sorted(p.name for p in gallery.iterdir()) if gallery.is_dir() else []


@pytest.fixture
def gallery(tmp_path: Path) -> Path:
    return tmp_path / "gallery"


def test_a_photo_is_the_frame_in_view_under_a_timestamped_name(gallery: Path) -> None:
    agent = make_agent(gallery)
    image = frame()
    agent.see(image=image)
    events = say(agent, "take a photo")
    assert (intent(events).app, intent(events).action) == ("camera", "photo")
    assert not errors(events)
    photos = [p for p in gallery.iterdir() if p.suffix == ".jpg"]
    assert len(photos) == 1
    assert photos[0].name.startswith("IMG_")
    assert photos[0].read_bytes() == image  # kept as the camera gave it, not re-encoded
    assert not [p for p in gallery.iterdir() if p.name.startswith(".tmp-")]
    assert "gps" not in answer(events).speech.lower()
    assert_fits_lens(answer(events).card)


def test_a_png_frame_keeps_its_format(gallery: Path) -> None:
    agent = make_agent(gallery)
    agent.see(image=frame("PNG"))
    say(agent, "snap a picture")
    assert [p.suffix for p in gallery.iterdir() if p.name.startswith("IMG_")] == [".png"]


def test_no_frame_in_view_saves_nothing(gallery: Path) -> None:
    events = say(make_agent(gallery), "take a picture")
    assert "camera" in answer(events).speech.lower()
    assert [p for p in files(gallery) if p.startswith("IMG_")] == []


@pytest.mark.parametrize(
    "broken",
    [b"not an image at all", frame()[:200], b"\x89PNG\r\n\x1a\n" + b"\x00" * 64],
    ids=["garbage", "truncated-jpeg", "png-header-only"],
)
def test_a_broken_frame_is_refused_and_nothing_is_written(gallery: Path, broken: bytes) -> None:
    agent = make_agent(gallery)
    agent.see(image=broken)
    events = say(agent, "take a photo")
    assert "damaged" in answer(events).speech
    assert [p for p in files(gallery) if p != INDEX_NAME and not p.startswith(INDEX_NAME)] == []


def test_count_and_last_photo(gallery: Path) -> None:
    agent = make_agent(gallery)
    empty = say(agent, "how many photos do I have")
    assert "no photos" in answer(empty).speech
    assert "no photos" in answer(say(agent, "show me the last photo")).speech

    for size in ((64, 48), (320, 240)):
        agent.see(image=frame(size=size))
        say(agent, "take a photo")
    counted = say(agent, "how many photos do I have")
    assert intent(counted).action == "count"
    assert "2 photos" in answer(counted).speech

    last = say(agent, "show me the last photo")
    assert intent(last).action == "last_photo"
    card = answer(last).card
    assert_fits_lens(card)
    assert card is not None and card.title == "Last photo"
    assert any("320×240" in row.value for row in card.rows)


def test_chinese_requests_get_chinese_answers(gallery: Path) -> None:
    agent = make_agent(gallery)
    agent.see(image=frame())
    taken = say(agent, "拍张照片")
    assert (intent(taken).action, answer(taken).language) == ("photo", "zh")
    assert "照片" in answer(taken).speech
    assert "1张" in answer(say(agent, "我有多少张照片")).speech


def test_a_damaged_index_is_rebuilt_from_the_photos(gallery: Path) -> None:
    agent = make_agent(gallery)
    for _ in range(2):
        agent.see(image=frame())
        say(agent, "take a photo")
    (gallery / INDEX_NAME).write_bytes(b"garbage" * 50)
    for suffix in ("-wal", "-shm"):
        (gallery / (INDEX_NAME + suffix)).unlink(missing_ok=True)
    events = say(agent, "how many photos do I have")
    assert not errors(events)
    assert "2 photos" in answer(events).speech
    assert any(".damaged-" in name for name in files(gallery))


def test_photos_removed_from_the_folder_are_not_counted(gallery: Path) -> None:
    saved = Gallery(gallery)
    first = saved.save(frame(), taken=1_700_000_000.0)
    saved.save(frame(), taken=1_700_000_060.0)
    (gallery / first.name).unlink()
    assert saved.count() == 1
    last = saved.last()
    assert last is not None and last.name != first.name


def test_photos_taken_in_the_same_millisecond_do_not_overwrite_each_other(gallery: Path) -> None:
    saved = Gallery(gallery)
    a = saved.save(frame(size=(10, 10)), taken=1_700_000_000.0)
    b = saved.save(frame(size=(20, 20)), taken=1_700_000_000.0)
    assert a.name != b.name
    assert saved.count() == 2


def test_paraphrases_reach_the_camera_through_the_embedding_tier(gallery: Path) -> None:
    parser = parser_for(*ALL_INTENTS)
    apps: list[App] = [CameraApp(gallery_dir=gallery), SystemApp()]
    agent = Agent(apps, parser, index=ExampleIndex(parser.labelled(), shared_encoder()))
    agent.see(image=frame())
    for text, action in [
        ("I'd like a photo of this", "photo"),
        ("how many pictures have I got", "count"),
        ("照片一共几张", "count"),
        ("show me the photo I just took", "last_photo"),
    ]:
        events = say(agent, text)
        assert (intent(events).app, intent(events).action, intent(events).path) == (
            "camera",
            action,
            "embedding",
        ), text
    assert len([p for p in gallery.iterdir() if p.name.startswith("IMG_")]) == 1


def test_a_photo_the_index_cannot_record_is_not_kept(gallery: Path) -> None:
    saved = Gallery(gallery)
    gallery.mkdir()
    saved.count()  # creates the index
    db = sqlite3.connect(gallery / INDEX_NAME)
    db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON photos BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    db.commit()
    db.close()
    with pytest.raises(GalleryError):
        saved.save(frame())
    assert [p for p in files(gallery) if p.startswith(("IMG_", ".tmp-"))] == []
