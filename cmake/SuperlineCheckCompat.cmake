# superline_check_compat(TARGET <name> PROTOS <file.proto>... AGAINST <baseline descriptor set>
#                        [IMPORT_DIRS <dir>...] [BREAKS <wire,json,source>] [TEST | BASELINE_ONLY])
#
# Checks that the contracts PROTOS break nothing for clients and nodes still running the release
# whose contracts AGAINST holds, with superline-compat. Without TEST the check is part of the build
# (target <name>, built by default): a breaking change fails the build and prints its findings.
# With TEST it is a test named <name> instead. BREAKS is what counts as breaking (default all
# three; "wire,json" for a rolling deploy where no client code is rebuilt).
#
# The target <name>_baseline writes the current contracts to AGAINST: run it when you cut a release
# and commit the file (a FileDescriptorSet of a few kilobytes, superline-compat --descriptor_set_out).
# BASELINE_ONLY adds that target alone: before the first release, when there is nothing to check
# against yet.
function(superline_check_compat)
  cmake_parse_arguments(ARG "TEST;BASELINE_ONLY" "TARGET;AGAINST;BREAKS" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(NOT ARG_TARGET OR NOT ARG_PROTOS OR NOT ARG_AGAINST)
    message(FATAL_ERROR "superline_check_compat: TARGET, PROTOS and AGAINST are required")
  endif()
  get_filename_component(against ${ARG_AGAINST} ABSOLUTE)
  set(flags)
  foreach(dir IN LISTS ARG_IMPORT_DIRS)
    get_filename_component(abs ${dir} ABSOLUTE)
    list(APPEND flags -I${abs})
  endforeach()
  set(protos)
  foreach(proto IN LISTS ARG_PROTOS)
    get_filename_component(abs ${proto} ABSOLUTE)
    list(APPEND protos ${abs})
  endforeach()
  if(ARG_BREAKS)
    list(APPEND check_flags --breaks=${ARG_BREAKS})
  endif()
  set(compat $<TARGET_FILE:${SUPERLINE_COMPAT_TARGET}>)

  # The contracts as they are now, as a descriptor set: what is compared, and what a baseline copies.
  set(current ${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}.binpb)
  # The depfile names every file the contracts import, so editing one of them checks again.
  add_custom_command(OUTPUT ${current}
    COMMAND ${compat} ${flags} --descriptor_set_out=${current} --dependency_out=${current}.d ${protos}
    DEPENDS ${protos} ${SUPERLINE_COMPAT_TARGET}
    DEPFILE ${current}.d
    COMMENT "superline-compat: describing ${ARG_TARGET}'s contracts"
    VERBATIM)
  add_custom_target(${ARG_TARGET}_baseline
    COMMAND ${CMAKE_COMMAND} -E copy ${current} ${against}
    DEPENDS ${current}
    COMMENT "superline-compat: ${ARG_AGAINST} now holds the current contracts; commit it"
    VERBATIM)

  if(ARG_BASELINE_ONLY)
    return()
  endif()
  if(ARG_TEST)
    add_custom_target(${ARG_TARGET}_current ALL DEPENDS ${current})
    add_test(NAME ${ARG_TARGET} COMMAND ${compat} ${check_flags} ${against} ${current})
    return()
  endif()
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}.compatible)
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${compat} ${check_flags} ${against} ${current}
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${current} ${against} ${SUPERLINE_COMPAT_TARGET}
    COMMENT "superline-compat: checking ${ARG_TARGET} against ${ARG_AGAINST}"
    VERBATIM)
  add_custom_target(${ARG_TARGET} ALL DEPENDS ${stamp})
endfunction()
