"""read — bytes in; text, tables' grids and page places out.

The drop-folder scan (``dropfolder``), format sniffing (``formats``), decoding of text and HTML
(``decode``), the PDF and Word readers (``pdf``, ``word``) and the grid both share (``grid``).
Never follows a link, never reads outside the drop folder, never writes the store, never
interprets what it read (no organ, year or table logic here).
"""
