"""Pattern slides (Argolight-type): rings/spot grids, line groups and gratings, grey-level ladders."""
