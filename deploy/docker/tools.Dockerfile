# The operator tools (isthmus-dev, isthmus) with the locked workspace, as a non-root user.
FROM python:3.11-slim
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PATH="/app/.venv/bin:$PATH"
RUN pip install --no-cache-dir 'uv>=0.13,<0.14' && useradd --create-home --uid 10001 isthmus
WORKDIR /app
COPY . /app
RUN uv sync --locked --no-dev --package isthmus-devenv && chown -R isthmus /app
USER isthmus
