# The layering rule, checked with the compiler: a file of layer L sees the headers of L and of
# the layers below it, and no header of a layer above. For every layer L, a translation unit
# including a header of the next layer up must fail with L's include path for want of that
# header; and with the top layer's path, one header of every layer preprocesses (so the
# failures are for the right reason).
# Run by ctest: cmake -DCXX=... -DSOURCE=... -DORDER="models;util;..." -DINCLUDES_<layer>="dir|dir"
# (each layer library's include directories) -P this file.
set(work ${CMAKE_CURRENT_BINARY_DIR}/check_layers)
file(MAKE_DIRECTORY ${work})

function(first_header layer out)
  if(layer STREQUAL "models")
    set(folder models/pcie)
  else()
    set(folder sim/${layer})
  endif()
  file(GLOB headers RELATIVE ${SOURCE} ${SOURCE}/${folder}/*.h)
  list(SORT headers)
  list(GET headers 0 first)
  set(${out} ${first} PARENT_SCOPE)
endfunction()

set(includes "")
list(LENGTH ORDER count)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  list(GET ORDER ${i} layer)
  string(REPLACE "|" ";" directories "${INCLUDES_${layer}}")
  list(REMOVE_DUPLICATES directories)
  list(TRANSFORM directories PREPEND "-I")
  set(flags ${directories})
  first_header(${layer} header)
  string(APPEND includes "#include \"${header}\"\n")
  if(i EQUAL last)
    file(WRITE ${work}/all_layers.cpp "${includes}")
    execute_process(COMMAND ${CXX} -std=c++17 -E ${flags} ${work}/all_layers.cpp -o /dev/null
                    RESULT_VARIABLE status ERROR_VARIABLE errors)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR "the top layer cannot include a header of every layer:\n${errors}")
    endif()
  else()
    math(EXPR above "${i} + 1")
    list(GET ORDER ${above} upper)
    first_header(${upper} upper_header)
    file(WRITE ${work}/${layer}_up.cpp "#include \"${upper_header}\"\n")
    execute_process(COMMAND ${CXX} -std=c++17 -E ${flags} ${work}/${layer}_up.cpp -o /dev/null
                    RESULT_VARIABLE status ERROR_VARIABLE errors)
    # "No such file" is gcc's message, "file not found" clang's.
    if(status EQUAL 0 OR NOT errors MATCHES "${upper_header}(: No such file|' file not found)")
      message(FATAL_ERROR "layer ${layer} can include ${upper_header} of layer ${upper} above it")
    endif()
    message(STATUS "${layer}: includes below build, ${upper_header} above does not")
  endif()
endforeach()
