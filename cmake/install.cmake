# Installs lrtune as a CMake package: static libraries, the headers a program
# of its own needs (include/lrtune/lrtune.h and what it includes), the lrtune
# program, and lrtuneConfig.cmake, which finds the same dependencies again.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS lrtune_core lrtune_store lrtune_search lrtune_report lrtune_train lrtune_study
                lrtune_cli lrtune_package
        EXPORT lrtuneTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS lrtune RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Public: the umbrella header and the closure of what it includes. The rest of
# src/ stays private.
install(FILES include/lrtune/lrtune.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lrtune)
foreach(header core/config.h core/errors.h core/keys.h core/metrics.h data/dataset.h
               data/datasets.h model/network.h optim/optimizer.h optim/schedule.h)
  get_filename_component(folder ${header} DIRECTORY)
  install(FILES src/${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lrtune/${folder})
endforeach()

install(EXPORT lrtuneTargets NAMESPACE lrtune:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lrtune)
configure_package_config_file(cmake/lrtuneConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/lrtuneConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lrtune)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/lrtuneConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/lrtuneConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/lrtuneConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lrtune)
