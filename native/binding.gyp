# The Foxing native addon: the few things Node 20 cannot do (see lib/native/binding.ts).
# node-addon-api is header-only; C++ exceptions are on so Napi::Error can be thrown directly.
# NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: a worker thread terminated in the middle of a native
# call makes the next napi call fail, and without it node-addon-api rethrows that failure out of
# its C callback wrapper, which aborts the whole process (std::terminate). With it the error is
# dropped when the environment is shutting down, which is all that can be done with it there.
{
  "targets": [
    {
      "target_name": "foxing_native",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/gear_chunk.cc",
        "src/xattr.cc",
        "src/seek.cc",
        "src/utimens.cc",
        "src/mknod.cc",
        "src/address.cc",
        "src/stat_dir.cc",
        "src/scan_ahead.cc",
        "src/tree_bytes.cc",
        "src/blake3.cc",
        "src/clone.cc",
        "src/copy_range.cc",
        "src/fallocate.cc",
        "src/statx.cc",
        "src/rename_noreplace.cc",
        "src/copy_files.cc",
        "src/fs_events.cc",
        "src/unix_datagram.cc",
        "src/file_maps.cc",
        "src/read_files.cc",
        "src/write_files.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "_FILE_OFFSET_BITS=64"],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20", "-O2", "-O0"],
      "cflags": ["-O3"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-Wall", "-Wextra"]
    }
  ]
}
