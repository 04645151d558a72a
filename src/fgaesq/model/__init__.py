"""fgaesq.model"""
