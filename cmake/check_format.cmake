# The tree is kept in the committed .clang-format style: every C++ file of the
# project's own folders, checked without changing it (clang-format --dry-run).
#   cmake -DSOURCE_DIR=... -DCLANG_FORMAT=... -P check_format.cmake
set(files)
foreach(dir kernels frontend sim training cli python tests tools)
  file(GLOB_RECURSE found ${SOURCE_DIR}/${dir}/*.cpp ${SOURCE_DIR}/${dir}/*.h)
  list(APPEND files ${found})
endforeach()
list(FILTER files EXCLUDE REGEX "/tests/fuzz/(corpus|regressions)/")
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${files}
                RESULT_VARIABLE rc ERROR_VARIABLE messages)
if(NOT rc EQUAL 0)
  string(REGEX MATCHALL "[^\n]*: error: [^\n]*" lines "${messages}")
  set(named)
  foreach(line ${lines})
    string(REGEX REPLACE ":[0-9]+:[0-9]+: error:.*" "" file "${line}")
    list(APPEND named ${file})
  endforeach()
  list(REMOVE_DUPLICATES named)
  list(JOIN named "\n  " shown)
  message(FATAL_ERROR "not in the .clang-format style:\n  ${shown}\n"
                      "Run: clang-format -i on these files.")
endif()
list(LENGTH files count)
message(STATUS "${count} files formatted")
