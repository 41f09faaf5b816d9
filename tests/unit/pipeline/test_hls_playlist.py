"""HLS playlists as ffmpeg writes them: sequence numbers, program date-times, end of list, variants."""

import pytest

from orchestrator.sources.hls_playlist import MasterPlaylist, MediaPlaylist, PlaylistError, parse_playlist

LIVE = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:41
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-11-30T10:31:23.285+0000
index41.ts
#EXTINF:0.900000,
index42.ts
"""


def test_live_media_playlist() -> None:
    playlist = parse_playlist(LIVE, "http://127.0.0.1:8080/live/index.m3u8")
    assert isinstance(playlist, MediaPlaylist) and not playlist.ended
    first, second = playlist.segments
    assert (first.sequence, first.url, first.duration_s) == (41, "http://127.0.0.1:8080/live/index41.ts", 1.0)
    assert first.program_date_time == pytest.approx(1_796_034_683.285)
    assert second.sequence == 42 and second.duration_s == 0.9
    assert second.program_date_time == pytest.approx(1_796_034_684.285), "carried on from the previous segment"


def test_ended_playlist_and_master() -> None:
    ended = parse_playlist(LIVE + "#EXT-X-ENDLIST\n", "http://h/a.m3u8")
    assert isinstance(ended, MediaPlaylist) and ended.ended
    master = parse_playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow/index.m3u8\n", "http://h/m.m3u8")
    assert master == MasterPlaylist(("http://h/low/index.m3u8",))


@pytest.mark.parametrize("text", ["", "<html>", "#EXTM3U\nindex0.ts\n"])
def test_not_a_usable_playlist(text: str) -> None:
    with pytest.raises(PlaylistError):
        parse_playlist(text, "http://h/x.m3u8")
