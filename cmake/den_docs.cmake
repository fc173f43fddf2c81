# Runs the den just built to write its manual pages and completion scripts
# into OUT (CMakeLists.txt): cmake -DDEN=... -DOUT=... -P den_docs.cmake
file(MAKE_DIRECTORY ${OUT}/completion)
execute_process(COMMAND ${DEN} help --man ${OUT}/man RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "den help --man failed (${rc})")
endif()
foreach(pair "bash;den" "zsh;_den" "fish;den.fish")
  list(GET pair 0 shell)
  list(GET pair 1 file)
  execute_process(COMMAND ${DEN} completion ${shell} OUTPUT_FILE ${OUT}/completion/${file}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "den completion ${shell} failed (${rc})")
  endif()
endforeach()
