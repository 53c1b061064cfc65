{
  "variables": { "has_mpicc": "<!(command -v mpicc >/dev/null 2>&1 && echo 1 || echo 0)" },
  "targets": [
    {
      "target_name": "alexnet_native",
      "sources": [
        "native/addon.cpp",
        "native/core.cpp",
        "native/memory.cpp",
        "native/elementwise.cpp",
        "native/conv.cpp",
        "native/pool.cpp",
        "native/lrn.cpp",
        "native/linear.cpp",
        "native/gemv.cpp",
        "native/linear_lowp.cpp",
        "native/loss.cpp",
        "native/optim.cpp",
        "native/runtime.cpp",
        "native/int8.cpp"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-Wall", "-Wno-unused-function"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    },
    {
      "target_name": "alexnet_image",
      "sources": [
        "native/image/addon.cpp",
        "native/image/jpeg_region.cpp",
        "native/image/resample.cpp",
        "native/image/to_tensor.cpp"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall"],
      "libraries": ["-ljpeg"]
    }
  ],
  "conditions": [
    [
      "has_mpicc==1",
      {
        "targets": [
          {
            "target_name": "alexnet_mpi",
            "sources": ["native/mpi/addon.cpp", "native/mpi/comm_thread.cpp"],
            "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
            "defines": ["NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NAPI_VERSION=8", "OMPI_SKIP_MPICXX=1"],
            "cflags!": ["-fno-exceptions", "-fno-rtti"],
            "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
            "cflags_cc": ["-std=c++17", "-O3", "-Wall", "<!@(mpicc --showme:compile)"],
            "libraries": ["<!@(mpicc --showme:link)", "-lpthread"]
          }
        ]
      }
    ]
  ]
}
