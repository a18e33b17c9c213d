"""Music: the wearer's own library, by song, artist, album, genre or mood."""
