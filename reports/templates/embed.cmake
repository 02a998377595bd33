# Embeds reports/templates/<name>.mustache into the build as C++ raw strings, in
# ${PROJECT_BINARY_DIR}/generated/reports/templates.inc (one `{"name", R"(...)"},` per template),
# so that `rooftop` needs no template files at run time. Editing a template re-runs CMake.
function(rooftop_embed_templates target)
  set(content "")
  foreach(name IN LISTS ARGN)
    set(file ${PROJECT_SOURCE_DIR}/reports/templates/${name}.mustache)
    file(READ ${file} text)
    string(APPEND content "{\"${name}\", R\"rooftop_template(${text})rooftop_template\"},\n")
    set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  endforeach()
  set(out ${PROJECT_BINARY_DIR}/generated/reports/templates.inc)
  file(WRITE ${out}.tmp "${content}")
  configure_file(${out}.tmp ${out} COPYONLY)
  target_include_directories(${target} PRIVATE ${PROJECT_BINARY_DIR}/generated)
endfunction()
