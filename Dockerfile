# wif's container image: the `wif` executable on Ubuntu 24.04, run as a non-root user.
#
#   docker build -t registry.example.com/platform/wif:0.1.0 .
#   docker run --rm registry.example.com/platform/wif:0.1.0 --help
#
# The entrypoint is `wif`; give the subcommand as arguments (deploy/kubernetes/ does: `serve …` for the
# exchanger, `exchange …` for workloads). The Swift standard library and Foundation are linked statically,
# so the runtime image needs only glibc, libstdc++, zlib and the CA certificates.

# --- build ------------------------------------------------------------------------------------------------
FROM swift:6.3-noble AS build
WORKDIR /src
# The manifest names the test targets too, so their folders come along (nothing of them is built).
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product wif --static-swift-stdlib -Xlinker -s \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/wif" /out/wif

# --- run --------------------------------------------------------------------------------------------------
FROM ubuntu:24.04
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o 65532 -g 65532 -m 0700 /var/lib/wif
COPY --from=build /out/wif /usr/local/bin/wif
# The uid the Kubernetes manifests run as; it owns only its state folder, /var/lib/wif.
USER 65532:65532
WORKDIR /var/lib/wif
ENTRYPOINT ["/usr/local/bin/wif"]
CMD ["--help"]
