"""The optional C extension: the CPU convolution kernel (pipeline/model/csrc). Everything else is in
pyproject.toml. Without a C compiler the build of the extension fails quietly (optional) and the
package runs on oneDNN, saying so once (pipeline/model/own_kernel.py)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("pipeline.model._dilated_conv", ["pipeline/model/csrc/dilated_conv.c"],
                             extra_compile_args=["-O3", "-std=gnu11"], optional=True)])
