// Entry point of foxing_native.node: registers each unit's functions on the exports object.
// The JS side (lib/native/load.ts) checks that every function of NativeBinding is present.
#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  foxing::InitGearChunk(env, exports);
  foxing::InitXattr(env, exports);
  foxing::InitSeek(env, exports);
  foxing::InitUtimens(env, exports);
  foxing::InitMknod(env, exports);
  foxing::InitAddress(env, exports);
  foxing::InitStatDir(env, exports);
  foxing::InitTreeBytes(env, exports);
  foxing::InitBlake3(env, exports);
  foxing::InitClone(env, exports);
  foxing::InitCopyRange(env, exports);
  foxing::InitFallocate(env, exports);
  foxing::InitStatx(env, exports);
  foxing::InitRenameNoReplace(env, exports);
  foxing::InitCopyFiles(env, exports);
  foxing::InitFsEvents(env, exports);
  foxing::InitUnixDatagram(env, exports);
  foxing::InitFileMaps(env, exports);
  foxing::InitReadFiles(env, exports);
  foxing::InitWriteFiles(env, exports);
  return exports;
}

NODE_API_MODULE(foxing_native, Init)
