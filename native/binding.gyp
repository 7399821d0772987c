# The Foxing native addon: the few things Node 20 cannot do (see lib/native/binding.ts).
# node-addon-api is header-only; C++ exceptions are on so Napi::Error can be thrown directly.
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
        "src/blake3.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_FILE_OFFSET_BITS=64"],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20", "-O2", "-O0"],
      "cflags": ["-O3"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-Wall", "-Wextra"]
    }
  ]
}
