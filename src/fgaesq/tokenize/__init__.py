"""fgaesq.tokenize"""
