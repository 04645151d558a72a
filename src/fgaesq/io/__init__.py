"""fgaesq.io"""
