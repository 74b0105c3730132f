# Runs `vpt-tune generate-docs` and prepares what the package installs:
# gzipped man pages (gzip -9n, as Debian wants), the completions, the gzipped
# changelog and an example libvirt hook written by `vpt-tune hook --print`.
#   cmake -DPROGRAM=<vpt-tune> -DOUT=<dir> -DDATE=<YYYY-MM-DD> -DCHANGELOG=<file> -P generate-docs.cmake
file(REMOVE_RECURSE "${OUT}/man")
file(MAKE_DIRECTORY "${OUT}/man")

execute_process(COMMAND "${PROGRAM}" generate-docs --man-dir "${OUT}/man" --bash "${OUT}/vpt-tune.bash"
                        --zsh "${OUT}/_vpt-tune" --date "${DATE}"
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "vpt-tune generate-docs failed (${result})")
endif()

find_program(GZIP gzip REQUIRED)
file(GLOB pages "${OUT}/man/*.1")
foreach(page IN LISTS pages)
  execute_process(COMMAND "${GZIP}" -9nkf "${page}" RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "cannot gzip '${page}'")
  endif()
endforeach()

# A native package's changelog is changelog.gz (Debian policy 12.7).
configure_file("${CHANGELOG}" "${OUT}/changelog" COPYONLY)
execute_process(COMMAND "${GZIP}" -9nf "${OUT}/changelog" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cannot gzip the changelog")
endif()

execute_process(COMMAND "${PROGRAM}" hook --domain win11 --host-cpus 16-27 --print
                OUTPUT_FILE "${OUT}/libvirt-hook-win11" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "vpt-tune hook --print failed (${result})")
endif()
file(TOUCH "${OUT}/stamp")
