"""The structure check of an SPSS system file (.sav/.zsav), one module a part of the format.

:func:`surveytools.loading.savcheck.check_sav` is the entry point.  The parts,
in the order a file is walked (GNU PSPP's "System File Format"):

==================  ===================================================
module              owns
==================  ===================================================
``format``          the constants of the format (format codes, subtypes,
                    character sets, limits, the name grammar)
``cursor``          reading counts and lengths from the mapped file, and
                    the error for a fault at a byte offset
``dictionary``      what the walk learns: the variables, their elements,
                    and what the extension records add
``records``         the header and the dictionary records (2, 3, 4, 6, 999)
``extensions``      the extension records (type 7) and their subtypes
``text``            names and text codes: the codec, decoding them
``data``            the data: case count, the ZLIB blocks of a .zsav,
                    every compressed code against its column
``bytecode``        decoding the compression bytecode (numpy, vectorised)
==================  ===================================================
"""
