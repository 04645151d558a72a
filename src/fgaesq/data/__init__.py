"""fgaesq.data"""
