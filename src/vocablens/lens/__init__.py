"""Projections through the unembedding: the residual logit lens and parameter projections."""
