"""The constants of the SPSS system-file format that the structure check tests against.

Values as GNU PSPP documents them ("System File Format") and as SPSS, PSPP
and ReadStat write them.

Examples
--------
>>> 5 in NUMBER_FORMATS, 1 in TEXT_FORMATS           # F and A
(True, True)
>>> bool(NAME.match(b"q1_a")), bool(NAME.match(b"1q"))
(True, False)
>>> CHARSETS[65001]
'utf-8'
"""

from __future__ import annotations

import re

__all__ = ["HEADER", "TEXT_FORMATS", "NUMBER_FORMATS", "MEASURES", "ALIGNMENTS", "NAME",
           "LONG_NAME_BYTES", "FLOAT_INFO", "MAX_STRING", "MAX_LABEL", "CHARSETS",
           "KNOWN_SUBTYPES", "ONCE"]

#: Bytes of the header record.
HEADER = 176
#: SPSS format type codes (PSPP's list); 1 (A) and 2 (AHEX) are the text formats.
TEXT_FORMATS = frozenset({1, 2})
NUMBER_FORMATS = frozenset({3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, *range(20, 42)})
#: Variable display parameters (subtype 11): measure 0-3, alignment 0-2.
MEASURES, ALIGNMENTS = range(0, 4), range(0, 3)
#: A variable name: a letter (or @ # $, or any non-ASCII byte), then letters,
#: digits, . _ $ # @ (ReadStat's grammar for the names of records 13 and 14).
NAME = re.compile(rb"[A-Za-z@#$\x80-\xff][A-Za-z0-9@#$_.\x80-\xff]*\Z")
LONG_NAME_BYTES = 64
#: System-missing (-DBL_MAX), HIGHEST (DBL_MAX) and LOWEST (the next number
#: above -DBL_MAX) as SPSS, PSPP and ReadStat write them (bit patterns).
FLOAT_INFO = (0xFFEFFFFFFFFFFFFF, 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFE)
#: Longest text variable (bytes).
MAX_STRING = 32767
#: Longest label ReadStat's buffers and SPSS allow (bytes).
MAX_LABEL = 65535

#: SPSS character codes (integer-info record) and the codecs ReadStat maps them to.
CHARSETS = {
    2: "cp1252", 3: "cp1252", 437: "cp437", 737: "cp737", 775: "cp775", 850: "cp850",
    852: "cp852", 855: "cp855", 857: "cp857", 858: "cp858", 860: "cp860", 861: "cp861",
    862: "cp862", 863: "cp863", 864: "cp864", 865: "cp865", 866: "cp866", 869: "cp869",
    874: "cp874", 932: "cp932", 936: "gbk", 949: "cp949", 950: "big5", 1200: "utf-16-le",
    1201: "utf-16-be", 1250: "cp1250", 1251: "cp1251", 1252: "cp1252", 1253: "cp1253",
    1254: "cp1254", 1255: "cp1255", 1256: "cp1256", 1257: "cp1257", 1258: "cp1258",
    1361: "johab", 10000: "mac-roman", 10006: "mac-greek", 10007: "mac-cyrillic",
    10029: "mac-latin2", 10079: "mac-iceland", 10081: "mac-turkish", 12000: "utf-32-le",
    12001: "utf-32-be", 20127: "ascii", 20866: "koi8-r", 20932: "euc-jp", 21866: "koi8-u",
    28591: "latin-1", 28592: "iso8859-2", 28593: "iso8859-3", 28594: "iso8859-4",
    28595: "iso8859-5", 28596: "iso8859-6", 28597: "iso8859-7", 28598: "iso8859-8",
    28599: "iso8859-9", 28603: "iso8859-13", 28605: "iso8859-15", 50220: "iso2022-jp",
    50221: "iso2022-jp", 50222: "iso2022-jp", 50225: "iso2022-kr", 51932: "euc-jp",
    51936: "gbk", 51949: "euc-kr", 54936: "gb18030", 65000: "utf-7", 65001: "utf-8",
}

#: Extension record subtypes that SPSS and PSPP write, and their element size
#: (0: not fixed).  Any other subtype is refused: a record the reader does not
#: know is data it cannot vouch for, and a damaged subtype would otherwise
#: make a record (the measure levels, say) silently disappear.
KNOWN_SUBTYPES = {3: 4, 4: 8, 5: 1, 6: 4, 7: 1, 8: 0, 10: 1, 11: 4, 13: 1, 14: 1, 16: 8,
                  17: 1, 18: 1, 19: 1, 20: 1, 21: 1, 22: 1, 24: 1}
#: Subtypes a file holds at most once.
ONCE = frozenset({3, 4, 11, 13, 14, 16, 20})
