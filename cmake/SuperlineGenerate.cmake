# superline_generate(TARGET <target> PROTOS <file.proto>... [MESSAGES <file.proto>...]
#                    [IMPORT_DIRS <dir>...])
#
# Runs protoc with protoc-gen-superline on each contract (PROTOS) and adds the generated protobuf and
# superline sources to <target>; MESSAGES are plain message files the contracts import (protobuf
# code only). The outputs depend on the .proto files, on every file they import (transitively,
# through protoc's --dependency_out) and on the plugin binary, so editing a contract or anything it
# imports, or upgrading superline, regenerates the stubs on the next build. Generated headers land in
# ${CMAKE_CURRENT_BINARY_DIR}/superline_gen, which is added to the target's include path; include them
# by their path relative to the first import dir (the .proto's own directory by default).
function(superline_generate)
  cmake_parse_arguments(ARG "" "TARGET" "PROTOS;MESSAGES;IMPORT_DIRS" ${ARGN})
  if(NOT ARG_TARGET OR NOT ARG_PROTOS)
    message(FATAL_ERROR "superline_generate: TARGET and PROTOS are required")
  endif()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/superline_gen)
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
  foreach(proto IN LISTS ARG_PROTOS ARG_MESSAGES)
    set(is_contract TRUE)
    if(proto IN_LIST ARG_MESSAGES)
      set(is_contract FALSE)
    endif()
    get_filename_component(proto_abs ${proto} ABSOLUTE)
    set(rel "")
    foreach(dir IN LISTS import_dirs)
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
    set(outs ${out_dir}/${stem}.pb.h ${out_dir}/${stem}.pb.cc)
    set(superline_flags)
    set(plugin_dep)
    if(is_contract)
      list(APPEND outs ${out_dir}/${stem}.superline.h ${out_dir}/${stem}.superline.cc)
      set(superline_flags --plugin=protoc-gen-superline=$<TARGET_FILE:${SUPERLINE_PLUGIN_TARGET}>
                          --superline_out=${out_dir})
      set(plugin_dep ${SUPERLINE_PLUGIN_TARGET})
    endif()
    # protoc lists every file the .proto imports, transitively, in a depfile: a change in any of
    # them regenerates this one too.
    set(depfile ${out_dir}/${stem}.d)
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc ${superline_flags} --cpp_out=${out_dir} --dependency_out=${depfile}
              ${include_flags} ${proto_abs}
      DEPENDS ${proto_abs} ${plugin_dep} protobuf::protoc
      DEPFILE ${depfile}
      COMMENT "superline: generating code for ${rel}"
      VERBATIM)
    list(APPEND generated ${outs})
  endforeach()
  target_sources(${ARG_TARGET} PRIVATE ${generated})
  target_include_directories(${ARG_TARGET} PUBLIC $<BUILD_INTERFACE:${out_dir}>)
endfunction()
