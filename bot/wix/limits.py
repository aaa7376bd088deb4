"""Wix's own numbers, in one place: where the API is and what its calls accept.

Everything else in MediaLink imports these; none of them is a choice of ours except
``MAX_RESPONSE_BYTES``, our bound on how much of an answer we read.
"""

from __future__ import annotations

from typing import Final

DEFAULT_BASE_URL: Final = "https://www.wixapis.com"  # docs/wix.md, Base URL and conventions
PATH_OAUTH_TOKEN: Final = "/oauth2/token"  # noqa: S105 - a path, not a secret

SRC_ASSET_KEY: Final = "src"
"""The documented asset key: the original file's format and quality (docs/wix.md, Asset keys)."""

MAX_EXPIRATION_MINUTES: Final = 525_600  # "Limit: 525600 (1 year)"
DEFAULT_EXPIRATION_MINUTES: Final = 600  # Wix's default when expirationInMinutes is omitted
MAX_ASSET_KEYS: Final = 100  # asset keys per generate-file-download-url call
MAX_ASSET_KEY_LENGTH: Final = 100
MAX_DOWNLOAD_FILE_NAME_LENGTH: Final = 100
MAX_FILE_ID_LENGTH: Final = 1000
MAX_GET_FILES_IDS: Final = 100  # get-files: maxItems 100
MAX_ZIP_FILE_IDS: Final = 1000  # generate-download-url: "up to 1000 files"

# Wix's answers are small: a get-files page of 100 descriptors is a few tens of KiB, a
# download-URL answer well under one. 1 MiB leaves room for 20x that and still bounds
# what a broken or hostile endpoint can make us buffer.
MAX_RESPONSE_BYTES: Final = 1024 * 1024

# Finding files (docs/wix.md, Finding files).
MAX_SEARCH_TEXT_LENGTH: Final = 200  # search: "≤ 200 characters"
MAX_SEARCH_PAGE_SIZE: Final = 100  # paging.limit
MAX_SEARCH_MEDIA_TYPES: Final = 30  # mediaTypes: up to 30 entries
MAX_SEARCH_ANSWER_FILES: Final = 200  # files in one answer, at most
# Ours, not Wix's: Wix documents no cursor length; this bounds what a caller (a button,
# the command line) can make us send.
MAX_SEARCH_CURSOR_LENGTH: Final = 2000

# Video streaming (docs/wix.md, Video streaming): the expiry applies to private videos.
MIN_STREAM_EXPIRATION_MINUTES: Final = 60
MAX_STREAM_EXPIRATION_MINUTES: Final = 1440
DEFAULT_STREAM_EXPIRATION_MINUTES: Final = 1440
