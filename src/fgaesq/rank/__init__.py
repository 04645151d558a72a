"""fgaesq.rank"""
