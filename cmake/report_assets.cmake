# Embeds the report page's JavaScript and CSS into lrtune_report, so index.html
# is self-contained and the binary needs nothing at run time: uPlot from
# node_modules/ (`npm ci`, run by scripts/setup.sh) and src/report/assets/.
# Regenerated on every build; the file is rewritten only when its input changed.
set(LRTUNE_REPORT_ASSETS_CPP ${CMAKE_CURRENT_BINARY_DIR}/generated/report_assets.cpp)
if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/node_modules/uplot/dist/uPlot.iife.min.js)
  message(WARNING "node_modules/uplot is missing: `lrtune report` will write no index.html. "
                  "Run `npm ci` in ${CMAKE_CURRENT_SOURCE_DIR} (scripts/setup.sh does), then build again.")
endif()
add_custom_target(lrtune_report_assets
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}
          -DOUTPUT=${LRTUNE_REPORT_ASSETS_CPP}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed_report_assets.cmake
  BYPRODUCTS ${LRTUNE_REPORT_ASSETS_CPP}
  COMMENT "Embedding the report page's JavaScript and CSS"
  VERBATIM)
set_source_files_properties(${LRTUNE_REPORT_ASSETS_CPP} PROPERTIES
  GENERATED TRUE SKIP_PRECOMPILE_HEADERS ON)
target_sources(lrtune_report PRIVATE ${LRTUNE_REPORT_ASSETS_CPP})
add_dependencies(lrtune_report lrtune_report_assets)
