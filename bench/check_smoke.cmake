# Runs `pciesim_bench --smoke --repeat 2`; passes when it exits 0 and prints every row id (no
# timing).
execute_process(COMMAND ${BENCH} --smoke --repeat 2 RESULT_VARIABLE status OUTPUT_VARIABLE output
                ERROR_VARIABLE errors)
message("${output}${errors}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "pciesim_bench --smoke --repeat 2 exited with ${status}")
endif()
foreach(id bench.repeat floor.timed_events floor.peq_hops hops.dma_write hops.dma_read scaling.0
           scaling.1 scaling.2 scaling.time_ratio scaling.rss_ratio machine.1pair machine.8pairs
           machine.time_per_byte_ratio machine.rss_ratio machine.peer_same_socket
           machine.peer_other_socket machine.peer_socket_ratio sweep.points sweep.points_per_min
           hmm.migrations hmm.us_per_migration hmm.sparse
           hmm.sparse_rss_ratio validate.0 validate.1 validate.time_ratio)
  string(FIND "${output}" "${id} " found)
  if(found EQUAL -1)
    message(FATAL_ERROR "row ${id} missing from pciesim_bench --smoke")
  endif()
endforeach()
