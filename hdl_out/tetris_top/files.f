rtl/tetris_top_act_bank.v
rtl/tetris_top_lane_select.v
rtl/tetris_top_seg_lane.v
rtl/tetris_top_pe.v
rtl/tetris_top.v
