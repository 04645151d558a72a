"""The review app: cull a ranked shoot in the browser (`fgaesq review`)."""
