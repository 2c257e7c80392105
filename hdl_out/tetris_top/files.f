rtl/tetris_top_digit_encode.v
rtl/tetris_top_knead_unit.v
rtl/tetris_top_ptr_decode.v
rtl/tetris_top_knead_decode.v
rtl/tetris_top_seg_lane.v
rtl/tetris_top_sac_core.v
rtl/tetris_top_sac_pe.v
rtl/tetris_top.v
