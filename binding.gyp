{
  "targets": [
    {
      "target_name": "rawnet",
      "sources": ["native/rawnet.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}
