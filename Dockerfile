# scw-mock in a container: build with the Swift toolchain image, run on a slim Debian with only the runtime libraries.
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libargon2-dev libsqlite3-dev zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
# SwiftPM refuses to load a manifest whose test targets have no folder, even to build only the executable.
COPY Tests ./Tests
RUN swift build -c release --product scw-mock --static-swift-stdlib \
 && cp "$(swift build -c release --product scw-mock --show-bin-path)/scw-mock" /usr/local/bin/scw-mock

# python3 runs python functions (uploaded archives are unpacked in process, with ZIPFoundation).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libargon2-1 libsqlite3-0 curl ca-certificates python3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/scw-mock scwmock \
 && mkdir -p /var/lib/scw-mock && chown scwmock /var/lib/scw-mock
COPY --from=build /usr/local/bin/scw-mock /usr/local/bin/scw-mock
COPY seed /seed
COPY Keys /Keys
USER scwmock
WORKDIR /var/lib/scw-mock
# Inside the container the mock listens on every interface; publish the port on the host's loopback only.
ENV SCW_MOCK_HOST=0.0.0.0 SCW_MOCK_PORT=7290 SCW_MOCK_DATABASE=/var/lib/scw-mock/state.sqlite
EXPOSE 7290
HEALTHCHECK --interval=5s --timeout=2s --start-period=5s --retries=10 CMD curl -fsS http://127.0.0.1:7290/_mock/health || exit 1
ENTRYPOINT ["scw-mock", "serve"]
