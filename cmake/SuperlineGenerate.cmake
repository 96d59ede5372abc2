# superline_generate(TARGET <target> PROTOS <file.proto>... [MESSAGES <file.proto>...]
#                    [IMPORT_DIRS <dir>...] [LANG cpp|ts] [OUT_DIR <dir>])
#
# Runs protoc with protoc-gen-superline on each contract (PROTOS) and adds the generated protobuf and
# superline sources to <target>; MESSAGES are plain message files the contracts import (protobuf
# code only). The outputs depend on the .proto files, on every file they import (transitively,
# through protoc's --dependency_out) and on the plugin binary, so editing a contract or anything it
# imports, or upgrading superline, regenerates the stubs on the next build. Generated headers land in
# ${CMAKE_CURRENT_BINARY_DIR}/superline_gen, which is added to the target's include path; include them
# by their path relative to the first import dir (the .proto's own directory by default).
#
# LANG ts generates TypeScript instead, into OUT_DIR (default ${CMAKE_CURRENT_BINARY_DIR}/superline_ts):
# <stem>.superline.ts (the typed clients) and <stem>_pb.ts (payload types, by protoc-gen-es) for
# each contract, <stem>_pb.ts for each of MESSAGES, and superline/options_pb.ts, which every
# contract's _pb.ts imports. <target> is then a new custom target, built by default, that makes
# them. protoc-gen-es is SUPERLINE_PROTOC_GEN_ES, or found on the PATH or in
# ${CMAKE_SOURCE_DIR}/node_modules/.bin (npm install @bufbuild/protoc-gen-es).
function(superline_generate)
  cmake_parse_arguments(ARG "" "TARGET;LANG;OUT_DIR" "PROTOS;MESSAGES;IMPORT_DIRS" ${ARGN})
  if(NOT ARG_TARGET OR NOT ARG_PROTOS)
    message(FATAL_ERROR "superline_generate: TARGET and PROTOS are required")
  endif()
  if(NOT ARG_LANG)
    set(ARG_LANG cpp)
  endif()
  if(NOT ARG_LANG MATCHES "^(cpp|ts)$")
    message(FATAL_ERROR "superline_generate: LANG is cpp or ts, not ${ARG_LANG}")
  endif()
  set(typescript FALSE)
  if(ARG_LANG STREQUAL "ts")
    set(typescript TRUE)
    set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/superline_ts)
    if(ARG_OUT_DIR)
      get_filename_component(out_dir ${ARG_OUT_DIR} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})
    endif()
    if(NOT SUPERLINE_PROTOC_GEN_ES)
      find_program(SUPERLINE_PROTOC_GEN_ES protoc-gen-es HINTS ${CMAKE_SOURCE_DIR}/node_modules/.bin)
    endif()
    if(NOT SUPERLINE_PROTOC_GEN_ES)
      message(FATAL_ERROR "superline_generate(LANG ts): protoc-gen-es not found; npm install "
                          "@bufbuild/protoc-gen-es and set SUPERLINE_PROTOC_GEN_ES to it")
    endif()
  else()
    set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/superline_gen)
  endif()
  file(MAKE_DIRECTORY ${out_dir})

  set(import_dirs ${ARG_IMPORT_DIRS})
  if(NOT import_dirs)
    list(GET ARG_PROTOS 0 first)
    get_filename_component(first_abs ${first} ABSOLUTE)
    get_filename_component(first_dir ${first_abs} DIRECTORY)
    set(import_dirs ${first_dir})
  endif()
  set(include_flags)
  foreach(dir IN LISTS import_dirs)
    get_filename_component(abs ${dir} ABSOLUTE)
    list(APPEND include_flags -I${abs})
  endforeach()
  list(APPEND include_flags -I${SUPERLINE_PROTO_IMPORT_DIR})
  if(Protobuf_INCLUDE_DIRS)
    list(GET Protobuf_INCLUDE_DIRS 0 protobuf_include)
    list(APPEND include_flags -I${protobuf_include})
  endif()

  set(generated)
  set(protos ${ARG_PROTOS} ${ARG_MESSAGES})
  if(typescript)
    list(APPEND protos ${SUPERLINE_PROTO_IMPORT_DIR}/superline/options.proto)
  endif()
  foreach(proto IN LISTS protos)
    set(is_contract TRUE)
    if(proto IN_LIST ARG_MESSAGES OR proto STREQUAL "${SUPERLINE_PROTO_IMPORT_DIR}/superline/options.proto")
      set(is_contract FALSE)
    endif()
    get_filename_component(proto_abs ${proto} ABSOLUTE)
    set(rel "")
    foreach(dir IN LISTS import_dirs SUPERLINE_PROTO_IMPORT_DIR)
      get_filename_component(abs ${dir} ABSOLUTE)
      file(RELATIVE_PATH candidate ${abs} ${proto_abs})
      if(NOT candidate MATCHES "^\\.\\.")
        set(rel ${candidate})
        break()
      endif()
    endforeach()
    if(rel STREQUAL "")
      message(FATAL_ERROR "superline_generate: ${proto} is not under any of IMPORT_DIRS")
    endif()
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    if(typescript)
      set(outs ${out_dir}/${stem}_pb.ts)
      set(lang_flags --plugin=protoc-gen-es=${SUPERLINE_PROTOC_GEN_ES} --es_out=${out_dir}
                     --es_opt=target=ts,import_extension=js)
      set(lang_deps ${SUPERLINE_PROTOC_GEN_ES})
      set(superline_out lang=ts:${out_dir})
    else()
      set(outs ${out_dir}/${stem}.pb.h ${out_dir}/${stem}.pb.cc)
      set(lang_flags --cpp_out=${out_dir})
      set(lang_deps)
      set(superline_out ${out_dir})
    endif()
    set(superline_flags)
    if(is_contract)
      if(typescript)
        list(APPEND outs ${out_dir}/${stem}.superline.ts)
      else()
        list(APPEND outs ${out_dir}/${stem}.superline.h ${out_dir}/${stem}.superline.cc)
      endif()
      set(superline_flags --plugin=protoc-gen-superline=$<TARGET_FILE:${SUPERLINE_PLUGIN_TARGET}>
                          --superline_out=${superline_out})
      list(APPEND lang_deps ${SUPERLINE_PLUGIN_TARGET})
    endif()
    # protoc lists every file the .proto imports, transitively, in a depfile: a change in any of
    # them regenerates this one too.
    set(depfile ${out_dir}/${stem}.d)
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc ${superline_flags} ${lang_flags} --dependency_out=${depfile}
              ${include_flags} ${proto_abs}
      DEPENDS ${proto_abs} ${lang_deps} protobuf::protoc
      DEPFILE ${depfile}
      COMMENT "superline: generating code for ${rel}"
      VERBATIM)
    list(APPEND generated ${outs})
  endforeach()
  if(typescript)
    add_custom_target(${ARG_TARGET} ALL DEPENDS ${generated})
    return()
  endif()
  target_sources(${ARG_TARGET} PRIVATE ${generated})
  target_include_directories(${ARG_TARGET} PUBLIC $<BUILD_INTERFACE:${out_dir}>)
endfunction()
