# This tree's TypeScript toolchain: Node.js and the packages `npm ci` installed in clients/ts
# (typescript, esbuild, protoc-gen-es, ...; scripts/setup.sh runs it). Missing, the configure fails
# and says what to run: the TypeScript client's tests are part of the suite, never skipped.
#
# superline_ts_project(DIR <dir> INCLUDE <glob>...) writes DIR/tsconfig.json for code outside
# clients/ts: strict, bundler resolution, @superline/client as clients/ts/src, @gen/chat/* as the
# chat contract's generated TypeScript, @gen/tests/* as the test contracts'; and links DIR/node_modules to clients/ts's, so generated
# files there resolve @bufbuild/protobuf.
set(SUPERLINE_TS_RUNTIME ${PROJECT_SOURCE_DIR}/clients/ts)
set(SUPERLINE_TS_MODULES ${SUPERLINE_TS_RUNTIME}/node_modules)
find_program(SUPERLINE_NODE node)
if(NOT SUPERLINE_NODE)
  message(FATAL_ERROR "Node.js not found: run scripts/setup.sh, or configure with -DSUPERLINE_TYPESCRIPT=OFF")
endif()
foreach(tool tsc esbuild protoc-gen-es)
  if(NOT EXISTS ${SUPERLINE_TS_MODULES}/.bin/${tool})
    message(FATAL_ERROR "clients/ts/node_modules has no ${tool}: run scripts/setup.sh (npm ci in clients/ts)")
  endif()
endforeach()
set(SUPERLINE_TSC ${SUPERLINE_TS_MODULES}/.bin/tsc)
set(SUPERLINE_ESBUILD ${SUPERLINE_TS_MODULES}/.bin/esbuild)
set(SUPERLINE_PROTOC_GEN_ES ${SUPERLINE_TS_MODULES}/.bin/protoc-gen-es)
# Where examples/chat generates the chat contract's TypeScript (the web page and the tests use it).
set(SUPERLINE_TS_CHAT_GEN ${PROJECT_BINARY_DIR}/examples/chat/ts)
# Where tests/ts generates the test contracts' TypeScript (@gen/tests/*).
set(SUPERLINE_TS_TESTS_GEN ${PROJECT_BINARY_DIR}/tests/ts/gen)
file(GLOB SUPERLINE_TS_RUNTIME_SOURCES CONFIGURE_DEPENDS ${SUPERLINE_TS_RUNTIME}/src/*.ts
     ${SUPERLINE_TS_RUNTIME}/src/gen/superline/*.ts)

function(superline_ts_project)
  cmake_parse_arguments(ARG "" "DIR" "INCLUDE" ${ARGN})
  set(TS_RUNTIME ${SUPERLINE_TS_RUNTIME})
  set(TS_CHAT_GEN ${SUPERLINE_TS_CHAT_GEN})
  set(TS_TESTS_GEN ${SUPERLINE_TS_TESTS_GEN})
  list(TRANSFORM ARG_INCLUDE PREPEND "\"")
  list(TRANSFORM ARG_INCLUDE APPEND "\"")
  list(JOIN ARG_INCLUDE ", " TS_INCLUDE)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/tsconfig.json.in ${ARG_DIR}/tsconfig.json @ONLY)
  file(MAKE_DIRECTORY ${ARG_DIR})
  file(CREATE_LINK ${SUPERLINE_TS_MODULES} ${ARG_DIR}/node_modules SYMBOLIC)
endfunction()
