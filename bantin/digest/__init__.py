"""Weekly digest: selection, rendering, archive, mail and delivery."""
