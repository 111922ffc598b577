# paretokit with CUDA: a PyTorch CUDA runtime image, paretokit installed on top of its torch.
#   docker build -t paretokit .
#   docker run --gpus all -v "$PWD:/work" paretokit sweep --tasks 3 --device cuda
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime

ENV PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg \
    PARETOKIT_CACHE=/cache

# Fashion-MNIST for the multifashion problem, from the distribution's package (nothing is
# downloaded at run time; PARETOKIT_FASHION_MNIST may name another folder holding its files).
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       dataset-fashion-mnist \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md /opt/paretokit/
COPY paretokit /opt/paretokit/paretokit
# The base image's torch (2.5.1, CUDA 12.4) satisfies paretokit's torch>=2.3: pip keeps it.
RUN pip install "/opt/paretokit[postgres,gnn]" && paretokit --version

WORKDIR /work
VOLUME ["/work", "/cache"]
ENTRYPOINT ["paretokit"]
CMD ["--help"]
