"""Hand-off: the board's picked takes out of the studio, as a contact sheet, an image sequence or an animatic."""
