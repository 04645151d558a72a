"""fgaesq.evaluate"""
