"""The Wix media reference parser (docs/wix.md, URL forms; docs/slack.md, Text escaping)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wix.refs import (
    DEFAULT_MAX_REFS,
    MAX_TOKEN_CHARS,
    MediaRef,
    MediaType,
    ParseResult,
    RejectedToken,
    parse_media_ref,
    parse_media_refs,
)

IMAGE_ID = "0abec0_b291a9349a0b4da59067f76287e386fb~mv2.jpg"
VIDEO_ID = "4acbb8_5646ee01a5524905af4f2e7c567cbbce"
DOCUMENT_ID = "2d321c_8011271dcba949cd84faf9dc8b5431f0.pdf"
FAKE_JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJvYmoiOltbXX0.P9eCCRunJcjxdFyJVOqFwvuutpyjRek"


def only_ref(text: str) -> MediaRef:
    result = parse_media_refs(text)
    assert result.rejected == ()
    assert len(result.refs) == 1, result
    return result.refs[0]


def only_rejection(text: str) -> RejectedToken:
    result = parse_media_refs(text)
    assert result.refs == ()
    assert len(result.rejected) == 1, result
    return result.rejected[0]


# --- docs/wix.md, URL forms ---------------------------------------------------------------

# (pasted string, file_id, media_type, filename) — docs/wix.md, URL forms: numbered, then grammar.
CATALOGUE: list[tuple[str, str, MediaType, str | None]] = [
    (  # form 1
        "wix:image://v1/0abec0_b291a9349a0b4da59067f76287e386fb~mv2.jpg/leon.jpg"
        "#originWidth=3024&originHeight=4032",
        IMAGE_ID,
        MediaType.IMAGE,
        "leon.jpg",
    ),
    (  # form 2: not pure hex
        "wix:image://v1/f6c0f9_tg439f4475a749e181dd14407fdbd37e~mv2.jpg/original-name.jpg"
        "#originWidth=300&originHeight=300",
        "f6c0f9_tg439f4475a749e181dd14407fdbd37e~mv2.jpg",
        MediaType.IMAGE,
        "original-name.jpg",
    ),
    (  # form 3: no filename segment, ID elided in the source
        "wix:image://v1/3c76e2_c53...4ea4~mv2.jpg#originWidth=1000&originHeight=1000",
        "3c76e2_c53...4ea4~mv2.jpg",
        MediaType.IMAGE,
        None,
    ),
    (  # form 4: video IDs have no extension
        "wix:video://v1/6e6ea4_461425d7e7db4d5487a28e00c5ba6244/"
        "9e6ea4_461425d7e7db4d5487a28e00c5ba6277#posterUri="
        "9e6ea4_461425d7e7db4d5487a28e00c5ba6277f000.jpg&posterWidth=960&posterHeight=540",
        "6e6ea4_461425d7e7db4d5487a28e00c5ba6244",
        MediaType.VIDEO,
        "9e6ea4_461425d7e7db4d5487a28e00c5ba6277",
    ),
    (  # form 5: trailing `#`
        "wix:audio://v1/2123bc_6aec991ee66c4c16a783433cc7dca232.mp3/fileUrl.mp3#",
        "2123bc_6aec991ee66c4c16a783433cc7dca232.mp3",
        MediaType.AUDIO,
        "fileUrl.mp3",
    ),
    (  # form 6: shortened doc example
        "wix:document://v1/9bec_52fb06ea/filename.xls",
        "9bec_52fb06ea",
        MediaType.DOCUMENT,
        "filename.xls",
    ),
    (  # form 7: the ID follows `ugd/`
        "wix:document://v1/ugd/2d321c_8011271dcba949cd84faf9dc8b5431f0.pdf/filename.pdf",
        DOCUMENT_ID,
        MediaType.DOCUMENT,
        "filename.pdf",
    ),
    (  # form 7, the same file without `ugd/`
        "wix:document://v1/2d321c_8011271dcba949cd84faf9dc8b5431f0.pdf/filename.pdf",
        DOCUMENT_ID,
        MediaType.DOCUMENT,
        "filename.pdf",
    ),
    (  # form 7, third example
        "wix:document://v1/ugd/a86acc_9e299f14fe7f448cacfa372dfff1dae7.pdf/Menu.pdf",
        "a86acc_9e299f14fe7f448cacfa372dfff1dae7.pdf",
        MediaType.DOCUMENT,
        "Menu.pdf",
    ),
    (  # form 8, with an encoded display name
        "wix:document://v1/dc45d4_93fab5fbecca4b97919580f4c3cd3346.pdf/Annual%20Report.pdf",
        "dc45d4_93fab5fbecca4b97919580f4c3cd3346.pdf",
        MediaType.DOCUMENT,
        "Annual Report.pdf",
    ),
    (  # form 9: empty filename
        "wix:vector://v1/11062b_e457b873ae5046a0bb21aedc8db8aef2.svg/",
        "11062b_e457b873ae5046a0bb21aedc8db8aef2.svg",
        MediaType.VECTOR,
        None,
    ),
    (  # form 11
        "https://static.wixstatic.com/media/2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg",
        "2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg",
        MediaType.IMAGE,
        None,
    ),
    (  # form 12: transform, trailing name
        "https://static.wixstatic.com/media/e9aa01_7f2531a2b18946e8a5536e801b9fc29f~mv2.jpg"
        "/v1/fill/w_800,h_600,al_c,q_85,enc_avif,quality_auto/"
        "laje-trelicada-unidirecional-e-bidirecional-03.jpg",
        "e9aa01_7f2531a2b18946e8a5536e801b9fc29f~mv2.jpg",
        MediaType.IMAGE,
        "laje-trelicada-unidirecional-e-bidirecional-03.jpg",
    ),
    (  # form 13: the trailing name has a different extension
        "https://static.wixstatic.com/media/d5f6aa_122238a3853c44fe938ecc1d38f24a0d~mv2.jpg"
        "/v1/fill/w_661,h_440,al_c,q_90,usm_0.66_1.00_0.01/"
        "d5f6aa_122238a3853c44fe938ecc1d38f24a0d~mv2.webp",
        "d5f6aa_122238a3853c44fe938ecc1d38f24a0d~mv2.jpg",
        MediaType.IMAGE,
        "d5f6aa_122238a3853c44fe938ecc1d38f24a0d~mv2.webp",
    ),
    (  # form 14: old-style ID
        "https://static.wixstatic.com/media/5cc69183e7954e2c9760fa2383870992.jpg",
        "5cc69183e7954e2c9760fa2383870992.jpg",
        MediaType.IMAGE,
        None,
    ),
    (  # form 16
        "https://video.wixstatic.com/video/4acbb8_5646ee01a5524905af4f2e7c567cbbce/240p/mp4/file.mp4",
        VIDEO_ID,
        MediaType.VIDEO,
        None,
    ),
    (  # form 16, `…/file`
        "https://video.wixstatic.com/video/4acbb8_5646ee01a5524905af4f2e7c567cbbce/file",
        VIDEO_ID,
        MediaType.VIDEO,
        None,
    ),
    (  # form 16, storyboard
        "https://video.wixstatic.com/video/4acbb8_5646ee01a5524905af4f2e7c567cbbce"
        "/storyboard/144p/mp4/file.mp4",
        VIDEO_ID,
        MediaType.VIDEO,
        None,
    ),
    (  # form 17
        "https://video.wixstatic.com/video/8fd47a_61de9ebf0ad64f0fa93d72e4279551f7/1080p/mp4/file.mp4",
        "8fd47a_61de9ebf0ad64f0fa93d72e4279551f7",
        MediaType.VIDEO,
        None,
    ),
    (  # form 18
        "https://files.wix.com/site/media/video/4acbb8_5646ee01a5524905af4f2e7c567cbbce"
        "/bee66e94-91b6-4ff2-b0b8-236c95361027/repackage/hls",
        VIDEO_ID,
        MediaType.VIDEO,
        None,
    ),
    (  # form 19
        "https://music.wixstatic.com/mp3/b29e13_10fe0bcdbd5f406290b1dcfe1dbf291b.mp3",
        "b29e13_10fe0bcdbd5f406290b1dcfe1dbf291b.mp3",
        MediaType.AUDIO,
        None,
    ),
    (  # form 19, the SDK's host
        "https://static.wixstatic.com/mp3/b29e13_10fe0bcdbd5f406290b1dcfe1dbf291b.mp3",
        "b29e13_10fe0bcdbd5f406290b1dcfe1dbf291b.mp3",
        MediaType.AUDIO,
        None,
    ),
    (  # form 20
        "https://bc039413-b629-4485-81f6-45112da50757.usrfiles.com/ugd/"
        "bc0394_199aaf04412a41fda293ff8be9502807.pdf",
        "bc0394_199aaf04412a41fda293ff8be9502807.pdf",
        MediaType.DOCUMENT,
        None,
    ),
    (  # form 21: drop the query, `dn` is the display name
        "https://02cf0076-07a2-4021-a4e3-9c08d9200afc.filesusr.com/ugd/"
        "983be4_8db884adabd44b608e6ab8ab33bed973.xlsx"
        "?dn=CATALOGO%20MINORISTAA%20IMPORT%201.xlsx&fbclid=IwAR2x8Kq0",
        "983be4_8db884adabd44b608e6ab8ab33bed973.xlsx",
        MediaType.DOCUMENT,
        "CATALOGO MINORISTAA IMPORT 1.xlsx",
    ),
    (  # form 22: custom domain
        "https://www.bhrdca.com.au/_files/ugd/23872a_b03334bc0f454b80bd4ab3ae7bc0ca84.pdf",
        "23872a_b03334bc0f454b80bd4ab3ae7bc0ca84.pdf",
        MediaType.DOCUMENT,
        None,
    ),
    (  # form 23 (a pattern only, docs/wix.md)
        "https://jane.wixsite.com/portfolio/_files/ugd/23872a_b03334bc0f454b80bd4ab3ae7bc0ca84.pdf",
        "23872a_b03334bc0f454b80bd4ab3ae7bc0ca84.pdf",
        MediaType.DOCUMENT,
        None,
    ),
    (  # form 24
        "https://static.wixstatic.com/ugd/298855_0050acb8726842f7b7ca13ec829f5ebf.pdf",
        "298855_0050acb8726842f7b7ca13ec829f5ebf.pdf",
        MediaType.DOCUMENT,
        None,
    ),
    (  # form 24 with `?dn=`
        "https://static.wixstatic.com/ugd/298855_0050acb8726842f7b7ca13ec829f5ebf.pdf"
        "?dn=Price%20list%202024.pdf",
        "298855_0050acb8726842f7b7ca13ec829f5ebf.pdf",
        MediaType.DOCUMENT,
        "Price list 2024.pdf",
    ),
    (  # form 25
        "https://docs.wixstatic.com/ugd/909b12_1a67fad1ddfd4b2899851ea43dda30e8.txt",
        "909b12_1a67fad1ddfd4b2899851ea43dda30e8.txt",
        MediaType.DOCUMENT,
        None,
    ),
    (  # form 26
        "https://static.wixstatic.com/shapes/0e0ac5_28d83eb7d9a4476e9700ce3a03f5a414.svg",
        "0e0ac5_28d83eb7d9a4476e9700ce3a03f5a414.svg",
        MediaType.VECTOR,
        None,
    ),
    (  # form 27: signed download link
        "https://download-files.wixmp.com/ugd/36e0da_671cc93711c54abb91a25823df0aa548.pdf"
        f"?token={FAKE_JWT}",
        "36e0da_671cc93711c54abb91a25823df0aa548.pdf",
        MediaType.DOCUMENT,
        None,
    ),
    (  # form 27, /media/
        "https://download-files.wixmp.com/media/"
        f"2acbb8_00668eb74c164439951039ca3a2ae54a~mv2_d_6031_4456_s_4_2.jpg?token={FAKE_JWT}",
        "2acbb8_00668eb74c164439951039ca3a2ae54a~mv2_d_6031_4456_s_4_2.jpg",
        MediaType.IMAGE,
        None,
    ),
    (  # form 27, /raw/
        f"https://download-files.wixmp.com/raw/{VIDEO_ID}?token={FAKE_JWT}",
        VIDEO_ID,
        MediaType.VIDEO,
        None,
    ),
    (  # form 27, /archives/
        "https://download-files.wixmp.com/archives/"
        f"36e0da_771cc93711c54abb91a25823df0aa548.zip?token={FAKE_JWT}",
        "36e0da_771cc93711c54abb91a25823df0aa548.zip",
        MediaType.ARCHIVE,
        None,
    ),
    # 7.1 grammar
    (
        f"wix:image://v1/{IMAGE_ID}/leon.jpg#originWidth=3024&originHeight=4032&watermark=abc",
        IMAGE_ID,
        MediaType.IMAGE,
        "leon.jpg",
    ),
    (
        f"wix:video://v1/{VIDEO_ID}/sample-mpg-file.mpg#posterUri={VIDEO_ID}f000.jpg"
        "&posterWidth=320&posterHeight=240",
        VIDEO_ID,
        MediaType.VIDEO,
        "sample-mpg-file.mpg",
    ),
    (  # legacy video: trailing `/` before `#`
        f"wix:video://v1/{VIDEO_ID}/sample-mpg-file.mpg/#posterUri={VIDEO_ID}f000.jpg"
        "&posterWidth=320&posterHeight=240",
        VIDEO_ID,
        MediaType.VIDEO,
        "sample-mpg-file.mpg",
    ),
    (  # no filename segment
        f"wix:video://v1/{VIDEO_ID}#posterUri={VIDEO_ID}f000.jpg&posterWidth=320&posterHeight=240",
        VIDEO_ID,
        MediaType.VIDEO,
        None,
    ),
    (
        "wix:audio://v1/2123bc_6aec991ee66c4c16a783433cc7dca232.mp3/My%20Song.mp3#duration=215",
        "2123bc_6aec991ee66c4c16a783433cc7dca232.mp3",
        MediaType.AUDIO,
        "My Song.mp3",
    ),
    (
        f"wix:document://v1/{DOCUMENT_ID}/filename.pdf",
        DOCUMENT_ID,
        MediaType.DOCUMENT,
        "filename.pdf",
    ),
    (
        "wix:vector://v1/11062b_e457b873ae5046a0bb21aedc8db8aef2.svg/logo.svg",
        "11062b_e457b873ae5046a0bb21aedc8db8aef2.svg",
        MediaType.VECTOR,
        "logo.svg",
    ),
    (  # legacy image: <w>_<h> between the ID and the name
        f"image://v1/{IMAGE_ID}/3024_4032/leon.jpg",
        IMAGE_ID,
        MediaType.IMAGE,
        "leon.jpg",
    ),
    (  # legacy, without `wix:`
        f"video://v1/{VIDEO_ID}/clip.mp4",
        VIDEO_ID,
        MediaType.VIDEO,
        "clip.mp4",
    ),
    (  # a wix: URL with the filename segment but no fragment
        f"wix:image://v1/{IMAGE_ID}/leon.jpg",
        IMAGE_ID,
        MediaType.IMAGE,
        "leon.jpg",
    ),
]


@pytest.mark.parametrize(("text", "file_id", "media_type", "filename"), CATALOGUE)
def test_catalogue_form_gives_the_file_id_type_and_name(
    text: str, file_id: str, media_type: MediaType, filename: str | None
) -> None:
    ref = only_ref(text)
    assert ref.file_id == file_id
    assert ref.media_type is media_type
    assert ref.filename == filename
    assert ref.source == text


@pytest.mark.parametrize(("text", "file_id", "media_type", "filename"), CATALOGUE)
def test_parse_media_ref_reads_one_catalogue_token(
    text: str, file_id: str, media_type: MediaType, filename: str | None
) -> None:
    assert parse_media_ref(text) == MediaRef(file_id, media_type, filename, text)


@pytest.mark.parametrize(
    ("bare_id", "media_type"),
    [
        (IMAGE_ID, MediaType.IMAGE),
        ("2acbb8_00668eb74c164439951039ca3a2ae54a~mv2_d_6031_4456_s_4_2.jpg", MediaType.IMAGE),
        ("f6c0f9_tg439f4475a749e181dd14407fdbd37e~mv2.jpg", MediaType.IMAGE),
        (VIDEO_ID, MediaType.VIDEO),
        (DOCUMENT_ID, MediaType.DOCUMENT),
        ("4acbb8_7596aeebcf5c41eca01c0d99667ac967.mp3", MediaType.AUDIO),
        ("0e0ac5_28d83eb7d9a4476e9700ce3a03f5a414.svg", MediaType.VECTOR),
        ("36e0da_771cc93711c54abb91a25823df0aa548.zip", MediaType.ARCHIVE),
        ("5cc69183e7954e2c9760fa2383870992.jpg", MediaType.IMAGE),
        ("36e0da_771cc93711c54abb91a25823df0aa548.xyz", MediaType.UNKNOWN),
    ],
)
def test_bare_ids_are_used_as_they_are(bare_id: str, media_type: MediaType) -> None:
    ref = only_ref(f"please send {bare_id} thanks")
    assert (ref.file_id, ref.media_type, ref.filename, ref.source) == (
        bare_id,
        media_type,
        None,
        bare_id,
    )


def test_file_id_is_url_decoded() -> None:
    ref = only_ref(
        "https://static.wixstatic.com/media/2acbb8_66ffafe2e5d04335b968dc73dae5585c%7Emv2.jpg"
    )
    assert ref.file_id == "2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg"
    assert only_ref("0abec0_b291a9349a0b4da59067f76287e386fb%7emv2.jpg").file_id == IMAGE_ID


def test_link_without_scheme_to_a_media_host_is_read() -> None:
    ref = only_ref(f"static.wixstatic.com/media/{IMAGE_ID}")
    assert ref.file_id == IMAGE_ID
    assert ref.source == f"static.wixstatic.com/media/{IMAGE_ID}"


# --- rejections -----------------------------------------------------------------------------


def test_zip_archive_link_is_rejected() -> None:
    rejection = only_rejection(
        "https://archive.wixmp.com/archive/wix/7d332530d35c465aa4a0e71d1737909d"
    )
    assert "zip archive" in rejection.reason
    assert "individual files" in rejection.reason


def test_built_in_shape_is_rejected() -> None:
    rejection = only_rejection("wix:vector://v1/svgshape.v2.Svg_283bac5c7f3f4b348e0f68e27825aaa0/")
    assert "built-in shape" in rejection.reason
    assert "Media Manager" in rejection.reason


@pytest.mark.parametrize(
    "text",
    [
        "https://static.wixstatic.com/media/4acbb8_5646ee01a5524905af4f2e7c567cbbcef000.jpg",
        "https://static.wixstatic.com/media/4acbb8_5646ee01a5524905af4f2e7c567cbbcef002.jpg",
        "4acbb8_5646ee01a5524905af4f2e7c567cbbcef000.jpg",
        "https://static.wixstatic.com/media/4acbb8_5646ee01a5524905af4f2e7c567cbbcef000.jpg"
        "/v1/fill/w_320,h_240/poster.jpg",
    ],
)
def test_video_poster_frame_is_rejected_naming_the_video(text: str) -> None:
    # docs/wix.md, URL forms, form 15; stripping `f00N.jpg` is an UNCONFIRMED rule.
    rejection = only_rejection(text)
    assert "poster image of a video" in rejection.reason
    assert VIDEO_ID in rejection.reason


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("https://static.wixstatic.com/media/", "/media/"),
        ("https://static.wixstatic.com/", "/media/"),
        ("https://static.wixstatic.com/somewhere/else", "/media/"),
        ("https://static.wixstatic.com/shapes/", "/shapes/"),
        ("https://music.wixstatic.com/mp3/", "/mp3/"),
        ("https://docs.wixstatic.com/ugd/", "/ugd/"),
        ("https://video.wixstatic.com/video/", "/video/"),
        ("https://bc039413-b629-4485-81f6-45112da50757.usrfiles.com/ugd/", "/ugd/"),
        ("https://02cf0076-07a2-4021-a4e3-9c08d9200afc.filesusr.com/other", "/ugd/"),
        ("https://download-files.wixmp.com/", "/media/"),
        ("https://download-files.wixmp.com/raw/?token=abc", "/raw/"),
        ("https://files.wix.com/site/media/video/", "/site/media/video/"),
        ("https://www.bhrdca.com.au/_files/ugd/", "/_files/ugd/"),
        ("https://manage.wix.com/dashboard/1234/media-manager", "not the URL of a media file"),
        ("wix:image://v1/#originWidth=1&originHeight=1", "v1/"),
        ("wix:image://v1/", "v1/"),
        ("wix:document://v1/ugd/", "v1/ugd/"),
        (f"wix:image://{IMAGE_ID}/leon.jpg", "v1/"),
        ("wix:image", "media type"),
        ("image://v1/", "v1/"),
    ],
)
def test_wix_address_without_a_file_id_says_what_is_missing(text: str, missing: str) -> None:
    rejection = only_rejection(text)
    assert missing in rejection.reason


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com/photo.jpg",
        "http://static.wixstatic.com.example.net/media/" + IMAGE_ID,
        "https://notwixstatic.com/media/" + IMAGE_ID,
        "https://www.wixsite.com/",
        "ftp://static.wixstatic.com/media/" + IMAGE_ID,
        "vector://v1/" + IMAGE_ID,
    ],
)
def test_other_links_are_rejected_as_not_wix_media(text: str) -> None:
    assert "not a Wix media URL" in only_rejection(text).reason


def test_over_long_link_is_rejected_with_short_text() -> None:
    text = "https://static.wixstatic.com/media/" + "a" * MAX_TOKEN_CHARS
    rejection = only_rejection(text)
    assert str(MAX_TOKEN_CHARS) in rejection.reason
    assert len(rejection.text) < 300


def test_file_id_over_wix_limit_is_rejected() -> None:
    rejection = only_rejection("https://static.wixstatic.com/media/" + "a" * 1001 + ".jpg")
    assert "1000" in rejection.reason


def test_file_id_with_characters_no_id_has_is_rejected() -> None:
    rejection = only_rejection("https://static.wixstatic.com/media/abc%2Fdef.jpg")
    assert "characters" in rejection.reason


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "deadbe_ef",
        "README.md",
        "v1.2.3",
        "snake_case_identifier_with_a_long_name",
        "abcdef_ghijklmnopqrstuvwxyzabcdefghijkl",
        "0abec0_b291a9349a0b4da59067f76287e386f",  # 31 characters
        "5cc69183e7954e2c9760fa2383870992",  # a hash, not a legacy ID (no extension)
        "mailto:someone@example.com",
        "wix",
        "wix:",
        "wix.com",
        "www.example.com/page",
        "x" * (MAX_TOKEN_CHARS * 3),
        "",
    ],
)
def test_plain_words_are_ignored(text: str) -> None:
    assert parse_media_ref(text) is None
    assert parse_media_refs(f"see {text} here") == ParseResult(refs=(), rejected=())


# --- Slack text forms -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrapped",
    [
        f"<https://static.wixstatic.com/media/{IMAGE_ID}>",
        f"<https://static.wixstatic.com/media/{IMAGE_ID}|leon>",
        f"<https://static.wixstatic.com/media/{IMAGE_ID}|https://example.com/other>",
        f"<https://static.wixstatic.com/media/{IMAGE_ID}|a label with spaces>",
        f"(https://static.wixstatic.com/media/{IMAGE_ID})",
        f'"https://static.wixstatic.com/media/{IMAGE_ID}"',
        f"'https://static.wixstatic.com/media/{IMAGE_ID}'",
        f"(<https://static.wixstatic.com/media/{IMAGE_ID}>)",
        f"`https://static.wixstatic.com/media/{IMAGE_ID}`",
        f"&lt;https://static.wixstatic.com/media/{IMAGE_ID}&gt;",
        f"\u201chttps://static.wixstatic.com/media/{IMAGE_ID}\u201d",
        f"link:https://static.wixstatic.com/media/{IMAGE_ID}",
    ],
)
def test_slack_wrapping_and_surrounding_quotes_are_removed(wrapped: str) -> None:
    ref = only_ref(f"here it is {wrapped} ok")
    assert ref.file_id == IMAGE_ID
    assert ref.source == f"https://static.wixstatic.com/media/{IMAGE_ID}"


@pytest.mark.parametrize("punctuation", [*".,;:!?)]}'\"", ">", "...", ").", "!)"])
def test_trailing_punctuation_is_not_part_of_the_link(punctuation: str) -> None:
    ref = only_ref(f"see https://static.wixstatic.com/media/{IMAGE_ID}{punctuation}")
    assert ref.file_id == IMAGE_ID
    assert only_ref(f"id {VIDEO_ID}{punctuation}").file_id == VIDEO_ID


def test_escaped_ampersand_in_query_is_decoded() -> None:
    url = (
        "https://02cf0076-07a2-4021-a4e3-9c08d9200afc.filesusr.com/ugd/"
        "983be4_8db884adabd44b608e6ab8ab33bed973.xlsx?dn=Price%20list.xlsx&amp;fbclid=IwAR0abc"
    )
    for text in (url, f"<{url}>", f"<{url}|Price list>"):
        ref = only_ref(text)
        assert ref.file_id == "983be4_8db884adabd44b608e6ab8ab33bed973.xlsx"
        assert ref.filename == "Price list.xlsx"
        assert "&amp;" not in ref.source
        assert "&fbclid=IwAR0abc" in ref.source


def test_escaped_ampersand_ends_the_display_name() -> None:
    # `?dn=a&amp;b` arrives as `?dn=a&b`: `b` is another query parameter.
    base = "https://x.filesusr.com/ugd/983be4_8db884adabd44b608e6ab8ab33bed973.xlsx"
    assert only_ref(f"<{base}?dn=a&amp;b>").filename == "a"
    assert only_ref(f"<{base}?dn=Tom%20%26%20Jerry.xlsx>").filename == "Tom & Jerry.xlsx"


def test_escaped_ampersand_in_wix_fragment_is_decoded() -> None:
    ref = only_ref(f"wix:image://v1/{IMAGE_ID}/leon.jpg#originWidth=3024&amp;originHeight=4032")
    assert ref.source == f"wix:image://v1/{IMAGE_ID}/leon.jpg#originWidth=3024&originHeight=4032"


def test_scheme_and_host_case_is_ignored_but_path_case_is_kept() -> None:
    ref = only_ref(
        "HTTPS://Static.WixStatic.COM/media/2acbb8_66FFafe2e5d04335b968dc73dae5585c~mv2.jpg"
    )
    assert ref.file_id == "2acbb8_66FFafe2e5d04335b968dc73dae5585c~mv2.jpg"
    assert only_ref(f"WIX:Image://V1/{IMAGE_ID}/Leon.JPG").filename == "Leon.JPG"
    assert only_ref(f"<Https://Video.WIXSTATIC.com/video/{VIDEO_ID}/file>").file_id == VIDEO_ID


def test_mentions_channels_and_specials_are_ignored() -> None:
    text = (
        "<@U012AB3CD> <@U345GHIJKL|worf> <#C123ABC456|general> <#C987654321|> <!here> "
        "<!subteam^S123|@team> <!date^1392734382^{date}|Feb 18> <mailto:a@example.com|a>"
    )
    assert parse_media_refs(text) == ParseResult(refs=(), rejected=())
    assert parse_media_ref("<@U012AB3CD>") is None


def test_several_links_in_order_separated_by_newlines_and_commas() -> None:
    text = (
        f"wix:image://v1/{IMAGE_ID}/leon.jpg#originWidth=1&originHeight=1\n"
        f"https://video.wixstatic.com/video/{VIDEO_ID}/file,"
        f"https://static.wixstatic.com/ugd/{DOCUMENT_ID}, "
        "5cc69183e7954e2c9760fa2383870992.jpg;b29e13_10fe0bcdbd5f406290b1dcfe1dbf291b.mp3\n"
        "0e0ac5_28d83eb7d9a4476e9700ce3a03f5a414.svg,36e0da_771cc93711c54abb91a25823df0aa548.zip"
    )
    assert [ref.file_id for ref in parse_media_refs(text).refs] == [
        IMAGE_ID,
        VIDEO_ID,
        DOCUMENT_ID,
        "5cc69183e7954e2c9760fa2383870992.jpg",
        "b29e13_10fe0bcdbd5f406290b1dcfe1dbf291b.mp3",
        "0e0ac5_28d83eb7d9a4476e9700ce3a03f5a414.svg",
        "36e0da_771cc93711c54abb91a25823df0aa548.zip",
    ]


def test_same_file_in_different_forms_is_kept_once_first_form_wins() -> None:
    text = (
        f"https://example.com/nope "
        f"wix:image://v1/{IMAGE_ID}/leon.jpg#originWidth=3024&originHeight=4032 "
        f"{VIDEO_ID} "
        f"<https://static.wixstatic.com/media/{IMAGE_ID}/v1/fill/w_80,h_60/leon.webp> "
        f"{IMAGE_ID} https://video.wixstatic.com/video/{VIDEO_ID}/file "
        f"https://example.com/nope"
    )
    result = parse_media_refs(text)
    assert [(ref.file_id, ref.filename) for ref in result.refs] == [
        (IMAGE_ID, "leon.jpg"),
        (VIDEO_ID, None),
    ]
    assert result.refs[0].source.startswith("wix:image://")
    assert [rejection.text for rejection in result.rejected] == ["https://example.com/nope"]


def test_rejections_come_in_order_alongside_refs() -> None:
    result = parse_media_refs(
        "https://example.com/a "
        f"{VIDEO_ID} "
        "https://archive.wixmp.com/archive/wix/7d332530d35c465aa4a0e71d1737909d"
    )
    assert [ref.file_id for ref in result.refs] == [VIDEO_ID]
    assert [rejection.text for rejection in result.rejected] == [
        "https://example.com/a",
        "https://archive.wixmp.com/archive/wix/7d332530d35c465aa4a0e71d1737909d",
    ]


# --- limits ---------------------------------------------------------------------------------


def video_ids(count: int) -> list[str]:
    return [f"{index:06x}_{index:032x}" for index in range(1, count + 1)]


def test_refs_over_the_limit_are_rejected_with_the_limit() -> None:
    ids = video_ids(60)
    result = parse_media_refs("\n".join(ids), max_refs=50)
    assert [ref.file_id for ref in result.refs] == ids[:50]
    assert [rejection.text for rejection in result.rejected] == ids[50:]
    assert all("limit of 50 files" in rejection.reason for rejection in result.rejected)
    assert parse_media_refs("\n".join(ids)) == result  # 50 is the default
    assert DEFAULT_MAX_REFS == 50


def test_duplicates_do_not_count_towards_the_limit() -> None:
    ids = video_ids(3)
    result = parse_media_refs(" ".join([*ids, *ids, *ids]), max_refs=2)
    assert [ref.file_id for ref in result.refs] == ids[:2]
    assert [rejection.text for rejection in result.rejected] == ids[2:]


@pytest.mark.parametrize("max_refs", [0, -1])
def test_max_refs_must_be_positive(max_refs: int) -> None:
    with pytest.raises(ValueError, match="max_refs"):
        parse_media_refs(VIDEO_ID, max_refs=max_refs)


@pytest.mark.parametrize(
    "make_text",
    [
        lambda: "<" * 200_000,
        lambda: "a" * 200_000,
        lambda: "<a|" + "b " * 100_000,
        lambda: "<a|b " * 50_000,
        lambda: "https://" * 50_000,
        lambda: "," * 200_000,
        lambda: "https://a.example/x.jpg," * 20_000,
        lambda: "a:" * 100_000,
        lambda: "wix:" * 50_000,
        lambda: "wix:image://" + "v1/" * 60_000,
        lambda: "static.wixstatic.com/" * 20_000,
        lambda: ("x <https://static.wixstatic.com/media/" + IMAGE_ID + "|y> ,;") * 5_000,
        lambda: "\n".join(video_ids(20_000)),
    ],
)
def test_long_input_is_parsed_quickly(make_text: Callable[[], str]) -> None:
    text = make_text()
    started = time.perf_counter()
    result = parse_media_refs(text)
    assert time.perf_counter() - started < 3.0
    assert len(result.refs) <= DEFAULT_MAX_REFS


# --- signed download links ------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["media", "ugd", "raw", "archives"])
def test_signed_download_token_never_reaches_file_id_or_filename(folder: str) -> None:
    secret = "eyJhbGciOiJIUzI1NiJ9.SECRETPAYLOAD.SECRETSIGNATURE"
    url = (
        f"https://download-files.wixmp.com/{folder}/{DOCUMENT_ID}"
        f"?token={secret}&filename=report.pdf#frag"
    )
    for text in (url, f"<{url.replace('&', '&amp;')}>", f"({url})."):
        ref = only_ref(text)
        assert ref.file_id == DOCUMENT_ID
        assert ref.filename is None
        assert "SECRET" not in ref.file_id
    rejection = only_rejection(f"https://download-files.wixmp.com/{folder}/?token={secret}")
    assert "SECRET" not in rejection.text
    assert "SECRET" not in rejection.reason


# --- properties -----------------------------------------------------------------------------

HEX = "0123456789abcdef"


def hex_text(size: int) -> st.SearchStrategy[str]:
    return st.text(HEX, min_size=size, max_size=size)


@st.composite
def id_body(draw: st.DrawFn) -> str:
    """32 hex characters, sometimes with non-hex letters (docs/wix.md, URL forms, form 2)."""
    body = list(draw(hex_text(32)))
    for index in draw(st.lists(st.integers(0, 31), max_size=3)):
        body[index] = draw(st.sampled_from("ghijklmnopqrstuvwxyz"))
    return "".join(body)


IMAGE_IDS = st.builds(
    "{}_{}~mv2{}.{}".format,
    hex_text(6),
    id_body(),
    st.sampled_from(["", "_d_6031_4456_s_4_2"]),
    st.sampled_from(["jpg", "jpeg", "png", "gif", "webp"]),
)
VIDEO_IDS = st.builds("{}_{}".format, hex_text(6), id_body())
DOCUMENT_IDS = st.builds(
    "{}_{}.{}".format,
    hex_text(6),
    id_body(),
    st.sampled_from(["pdf", "docx", "xlsx", "txt", "csv", "mp3", "svg", "zip"]),
)
LEGACY_IDS = st.builds("{}.{}".format, hex_text(32), st.sampled_from(["jpg", "png", "gif"]))
FILE_IDS = st.one_of(IMAGE_IDS, VIDEO_IDS, DOCUMENT_IDS, LEGACY_IDS)

# Every supported form, with `{id}` where the file ID goes.
FORMS = [
    "{id}",
    "https://static.wixstatic.com/media/{id}",
    "https://static.wixstatic.com/media/{id}/v1/fill/w_800,h_600,al_c,q_85,enc_avif/name.webp",
    "https://static.wixstatic.com/media/{id}/v1/fit/w_100,h_100/{id}",
    "static.wixstatic.com/media/{id}",
    "https://static.wixstatic.com/shapes/{id}",
    "https://static.wixstatic.com/mp3/{id}",
    "https://music.wixstatic.com/mp3/{id}",
    "https://video.wixstatic.com/video/{id}/1080p/mp4/file.mp4",
    "https://video.wixstatic.com/video/{id}/file",
    "https://files.wix.com/site/media/video/{id}/bee66e94-91b6-4ff2-b0b8-236c95361027/repackage/hls",
    "https://bc039413-b629-4485-81f6-45112da50757.usrfiles.com/ugd/{id}",
    "https://02cf0076-07a2-4021-a4e3-9c08d9200afc.filesusr.com/ugd/{id}?dn=My%20file.pdf&fbclid=x1",
    "https://static.wixstatic.com/ugd/{id}",
    "https://static.wixstatic.com/ugd/{id}?dn=report.pdf",
    "https://docs.wixstatic.com/ugd/{id}",
    "https://www.bhrdca.com.au/_files/ugd/{id}",
    "https://jane.wixsite.com/portfolio/_files/ugd/{id}",
    "https://download-files.wixmp.com/media/{id}?token=" + FAKE_JWT,
    "https://download-files.wixmp.com/ugd/{id}?token=" + FAKE_JWT,
    "https://download-files.wixmp.com/raw/{id}?token=" + FAKE_JWT,
    "https://download-files.wixmp.com/archives/{id}?token=" + FAKE_JWT,
    "wix:image://v1/{id}/leon.jpg#originWidth=3024&originHeight=4032",
    "wix:image://v1/{id}#originWidth=1000&originHeight=1000",
    "wix:image://v1/{id}/leon.jpg#originWidth=3024&originHeight=4032&watermark=x",
    "image://v1/{id}/3024_4032/leon.jpg",
    "wix:video://v1/{id}/clip.mp4#posterUri={id}f000.jpg&posterWidth=960&posterHeight=540",
    "wix:video://v1/{id}/clip.mp4/#posterUri={id}f000.jpg&posterWidth=960&posterHeight=540",
    "wix:video://v1/{id}#posterUri={id}f000.jpg&posterWidth=960&posterHeight=540",
    "video://v1/{id}/clip.mp4",
    "wix:audio://v1/{id}/fileUrl.mp3#",
    "wix:audio://v1/{id}/song.mp3#duration=0",
    "wix:document://v1/{id}/filename.pdf",
    "wix:document://v1/ugd/{id}/filename.pdf",
    "document://v1/{id}/filename.pdf",
    "wix:vector://v1/{id}/",
    "wix:vector://v1/{id}/logo.svg",
]
# How the link may sit in a message; `{e}` is the link as Slack escapes it.
WRAPPINGS = [
    "{u}",
    "{e}",
    "<{e}>",
    "<{e}|{label}>",
    "({u})",
    "({e}).",
    '"{u}"',
    "'{u}',",
    "[{u}]",
    "`{u}`",
    "*{u}*",
    "_{u}_",
    "{u}!",
    "{u}?",
    "{u}:",
    "{u};",
    "{e}&gt;",
    "&lt;{e}&gt;",
    "\u201c{u}\u201d",
    "(<{e}>)",
]
SURROUNDING = st.text(
    st.characters(exclude_characters="<>", exclude_categories=["Cs"]), max_size=30
)
SEPARATORS = st.sampled_from([" ", "\n", "\t", "  ", "\n\n", " \r\n "])


def with_case(url: str, change: Callable[[str], str]) -> str:
    """Apply `change` to the scheme and host only; paths keep their case."""
    if "://" not in url:
        head_end = url.find("/") if url.startswith("static.") else 0
    else:
        after = url.index("://") + 3
        slash = url.find("/", after)
        head_end = after if url.startswith(("wix:", "image:", "video:", "document:")) else slash
    return change(url[:head_end]) + url[head_end:]


@settings(max_examples=400)
@given(
    file_id=FILE_IDS,
    form=st.sampled_from(FORMS),
    wrapping=st.sampled_from(WRAPPINGS),
    case=st.sampled_from([str.lower, str.upper, str.title, str.swapcase]),
    encode_tilde=st.booleans(),
    label=st.text(st.characters(exclude_characters="<>|", exclude_categories=["Cs"])),
    before=SURROUNDING,
    after=SURROUNDING,
    separators=st.tuples(SEPARATORS, SEPARATORS),
)
def test_any_id_survives_any_form_wrapping_and_surrounding_text(
    *,
    file_id: str,
    form: str,
    wrapping: str,
    case: Callable[[str], str],
    encode_tilde: bool,
    label: str,
    before: str,
    after: str,
    separators: tuple[str, str],
) -> None:
    url = with_case(form.format(id=file_id), case)
    if encode_tilde:
        url = url.replace("~", "%7E")
    escaped = url.replace("&", "&amp;")
    wrapped = wrapping.format(u=url, e=escaped, label=label)
    text = f"{before}{separators[0]}{wrapped}{separators[1]}{after}"

    result = parse_media_refs(text)

    assert [ref.file_id for ref in result.refs] == [file_id]
    single = parse_media_ref(wrapped)
    assert isinstance(single, MediaRef)
    assert single.file_id == file_id


FRAGMENTS = st.sampled_from(
    [
        *"<>|&@#!,;:/?~%._ \n",
        "&amp;",
        "&lt;",
        "&gt;",
        "https://",
        "HTTP://",
        "wix:",
        "image://",
        "video://",
        "v1/",
        "ugd/",
        "/_files/ugd/",
        "static.wixstatic.com/media/",
        "download-files.wixmp.com/",
        "archive.wixmp.com/archive/",
        "files.wix.com/site/media/video/",
        "x.usrfiles.com/ugd/",
        "svgshape.v2.",
        "?dn=",
        "?token=",
        "#originWidth=1",
        "%7E",
        "%2F",
        "%",
        "~mv2",
        ".jpg",
        "f000.jpg",
        "0abec0_",
        "b291a9349a0b4da59067f76287e386fb",
        "<@U1>",
        "<https://",
    ]
)


@settings(max_examples=500)
@given(
    pieces=st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=40),
    max_refs=st.integers(1, 5),
)
def test_any_text_parses_without_error(pieces: list[str], max_refs: int) -> None:
    text = "".join(pieces)
    result = parse_media_refs(text, max_refs=max_refs)
    assert isinstance(result, ParseResult)
    file_ids = [ref.file_id for ref in result.refs]
    assert len(file_ids) == len(set(file_ids)) <= max_refs
    for ref in result.refs:
        assert ref.file_id
        assert len(ref.file_id) <= 1000
        assert not any(character in ref.file_id for character in "/?# \n")
        assert isinstance(ref.media_type, MediaType)
    for rejection in result.rejected:
        assert rejection.reason
    token_result = parse_media_ref(text)
    assert token_result is None or isinstance(token_result, MediaRef | RejectedToken)


@given(st.text())
def test_arbitrary_unicode_text_never_raises(text: str) -> None:
    assert isinstance(parse_media_refs(text), ParseResult)
    parse_media_ref(text)


@given(
    folder=st.sampled_from(["media", "ugd", "raw", "archives"]),
    file_id=FILE_IDS,
    token=st.text(
        st.characters(exclude_characters="&#<> \t\r\n", exclude_categories=["Cs", "Z", "Cc"]),
        min_size=8,
    ),
    slack_wrapped=st.booleans(),
)
def test_signed_url_token_never_leaks(
    folder: str, file_id: str, token: str, slack_wrapped: bool
) -> None:
    url = f"https://download-files.wixmp.com/{folder}/{file_id}?token=QQ{token}QQ"
    ref = only_ref(f"<{url}>" if slack_wrapped else url)
    assert ref.file_id == file_id
    assert ref.filename is None
    assert "QQ" not in ref.file_id
