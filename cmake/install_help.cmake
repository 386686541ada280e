# Run by `cmake --install` after the executables are installed: writes the
# --help text of palsim and of each of its commands, from the installed
# palsim itself (so the defaults shown are the installed paths), as
# share/doc/palsim/help/palsim[-COMMAND].txt. PALSIM_INSTALL_BINDIR and
# PALSIM_INSTALL_DOCDIR are set by the install code before this script.
set(prefix "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(palsim "${prefix}/${PALSIM_INSTALL_BINDIR}/palsim")
set(out "${prefix}/${PALSIM_INSTALL_DOCDIR}/help")
file(MAKE_DIRECTORY "${out}")
execute_process(COMMAND "${palsim}" --help OUTPUT_VARIABLE overview RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${palsim} --help failed (${rc})")
endif()
file(WRITE "${out}/palsim.txt" "${overview}")
message(STATUS "Installing: ${out}/palsim.txt")
string(REGEX MATCH "commands:\n(.*)\n\n" listing "${overview}")
string(REGEX MATCHALL "\n  [a-z0-9_-]+ " names "\n${CMAKE_MATCH_1}")
foreach(entry ${names})
  string(STRIP "${entry}" command)
  execute_process(COMMAND "${palsim}" ${command} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${palsim} ${command} --help failed (${rc})")
  endif()
  file(WRITE "${out}/palsim-${command}.txt" "${text}")
  message(STATUS "Installing: ${out}/palsim-${command}.txt")
endforeach()
